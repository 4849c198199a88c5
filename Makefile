# The README's two commands:
#   make run   install deps, build, start `atende serve` on the embedded default
#   make test  install deps, build (ASan/UBSan + fuzzers), run every test
# `make` alone builds build/atende.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
# fuzz-smoke: seconds per target (18+ targets: about 1.5 min in all; fuzz-long is the real
# search). Each target starts from its committed corpus, so a few seconds re-run every known
# input and try some new ones.
FUZZ_SECONDS ?= 4
# fuzz-long: seconds per target; it keeps what it finds (see docs/fuzzing.md).
FUZZ_LONG_SECONDS ?= 600
FUZZ_TARGETS ?=
# Only the fuzz targets (and the modules they link) are built in $(FUZZ_BUILD): the server
# binary, the tools and the modules no parser lives in would cost CI minutes for nothing.
# The fuzz build's optimisation: -O1 with sanitizers is what libFuzzer's docs suggest, and
# clang builds the instrumented tree in far less time than at -O2 with full debug info.
FUZZ_FLAGS ?= -O1 -g1 -DNDEBUG
FUZZ_TARGET_NAMES := $(basename $(notdir $(wildcard fuzz/fuzz_*.cpp)))
# Tests at once: the end-to-end ones mostly wait on real-time calls, so more than the cores.
TEST_JOBS ?= 4
# `make test` runs every test once, unit and end-to-end, against the ASan/UBSan build
# (test-asan). The release build (server, tools, benchmarks: what `make run` and bench/ use)
# is not part of it: three builds on CI's 2 cores did not fit its 40 minutes with the tests,
# and the ASan build compiles the same sources, benchmarks included. To build and run the
# release build's unit tests: make test-release; with its end-to-end files too:
# make test-release RELEASE_TESTS=
RELEASE_TESTS ?= -E '^e2e\.'
ARGS ?=
# Line tables and function names only (-g1): backtraces, perf and sanitizer reports keep file
# and line, and the builds link in far less time (CI has 40 minutes for three builds).
DEBUG_INFO ?= -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"

.PHONY: all deps configure run test tests-with-fuzz-build fuzz-smoke-only release-build test-release test-asan asan-build asan-run fuzz fuzz-smoke fuzz-long fuzz-minimize bench format clean web web-test

all: $(BUILD)/build.ninja-or-make web
	cmake --build $(BUILD) -j$(JOBS)

# The web console (web/, docs/console.md): npm ci when node_modules is missing or older than
# package-lock.json, then a Vite build into web/dist, which atende serves. Make rebuilds it
# only when a source file changed.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json

web: web/dist/index.html

web/node_modules/.package-lock.json: web/package-lock.json web/package.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

# The console's component tests (Vitest, jsdom).
web-test: web/node_modules/.package-lock.json
	cd web && npx vitest run

$(BUILD)/build.ninja-or-make:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(DEBUG_INFO)
	@touch $@

deps:
	scripts/install-deps

run: deps all
	./$(BUILD)/atende serve $(ARGS)

test: deps web web-test asan-build tests-with-fuzz-build fuzz-smoke-only
	@echo "[$$(date +%T)] make test: ASan/UBSan tests and fuzz smoke all passed"

# The ASan/UBSan tests, with the fuzz tree built meanwhile at the lowest CPU priority (nice
# 19: the tests' processes always come first), in whatever CPU they leave idle. Measured on a
# fresh clone: the tests took as long as before (12.4 min) and the fuzz build needed 6.9 min
# after them instead of 7.9: the ASan tests keep the two cores busier than their real-time
# waits suggest. Its output goes to $(FUZZ_BUILD)/make-fuzz.log, shown when it fails.
tests-with-fuzz-build:
	@mkdir -p $(FUZZ_BUILD)
	@echo "[$$(date +%T)] building $(FUZZ_BUILD) at nice 19 during the tests (log: $(FUZZ_BUILD)/make-fuzz.log)"
	@( nice -n 19 $(MAKE) --no-print-directory fuzz > $(FUZZ_BUILD)/make-fuzz.log 2>&1; echo $$? > $(FUZZ_BUILD)/make-fuzz.rc ) & \
	  fuzz_pid=$$!; \
	  $(MAKE) --no-print-directory asan-run; tests=$$?; \
	  echo "[$$(date +%T)] tests done (exit $$tests); waiting for the fuzz build"; \
	  wait $$fuzz_pid; fuzz=$$(cat $(FUZZ_BUILD)/make-fuzz.rc); \
	  if [ "$$fuzz" != 0 ]; then tail -60 $(FUZZ_BUILD)/make-fuzz.log; echo "fuzz build FAILED (exit $$fuzz)"; fi; \
	  echo "[$$(date +%T)] fuzz build done (exit $$fuzz)"; \
	  [ "$$tests" = 0 ] && [ "$$fuzz" = 0 ]

# fuzz-smoke without building (test: the fuzz tree was built by tests-with-fuzz-build).
fuzz-smoke-only:
	@echo "[$$(date +%T)] fuzz-smoke: $(FUZZ_SECONDS) s per target"
	scripts/fuzz-smoke $(FUZZ_BUILD) $(FUZZ_SECONDS)

# The release build without its unit tests (ATENDE_TESTS=OFF; test-release turns them on).
release-build: $(BUILD)/build.ninja-or-make web
	@echo "[$$(date +%T)] release-build: building $(BUILD) (its tests run in $(ASAN_BUILD))"
	cmake -S . -B $(BUILD) -DATENDE_TESTS=OFF
	cmake --build $(BUILD) -j$(JOBS)

test-release: $(BUILD)/build.ninja-or-make web
	cmake -S . -B $(BUILD) -DATENDE_TESTS=ON
	cmake --build $(BUILD) -j$(JOBS)
	@echo "[$$(date +%T)] test-release: running the unit tests of $(BUILD)"
	cd $(BUILD) && ctest --output-on-failure -j$(TEST_JOBS) $(RELEASE_TESTS)

test-asan: asan-build asan-run

asan-build:
	@echo "[$$(date +%T)] test-asan: building $(ASAN_BUILD)"
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DATENDE_SANITIZE=ON -DATENDE_BENCH=ON \
	  -DATENDE_SHARED_MODULES=ON -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1
	cmake --build $(ASAN_BUILD) -j$(JOBS)

asan-run:
	@echo "[$$(date +%T)] test-asan: running the tests of $(ASAN_BUILD)"
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j$(TEST_JOBS)

fuzz:
	@echo "[$$(date +%T)] fuzz: building $(FUZZ_BUILD)"
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DATENDE_FUZZ=ON -DATENDE_TESTS=OFF -DATENDE_BENCH=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$(FUZZ_FLAGS)" \
	  -DCMAKE_C_FLAGS_RELWITHDEBINFO="$(FUZZ_FLAGS)"
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target $(FUZZ_TARGET_NAMES)

# A short run of every fuzz target from its corpus (fuzz/corpus/<target>) and dictionary.
fuzz-smoke: fuzz
	@echo "[$$(date +%T)] fuzz-smoke: $(FUZZ_SECONDS) s per target"
	scripts/fuzz-smoke $(FUZZ_BUILD) $(FUZZ_SECONDS)

# FUZZ_LONG_SECONDS per target (FUZZ_TARGETS: some only): new coverage is merged back into
# fuzz/corpus, crashes land in $(FUZZ_BUILD)/fuzz-findings (non-zero exit), and the results
# table in docs/fuzzing.md is rewritten.
fuzz-long: fuzz
	scripts/fuzz-long $(FUZZ_BUILD) $(FUZZ_LONG_SECONDS) $(FUZZ_TARGETS)

# Drops corpus files that add no coverage (after editing fuzz/make-seeds).
fuzz-minimize: fuzz
	scripts/fuzz-minimize $(FUZZ_BUILD) $(FUZZ_TARGETS)

bench: all
	bench/run-all

format:
	find src tests fuzz bench tools -name '*.cpp' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) web/dist
