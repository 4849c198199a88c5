# Shared by scripts/fuzz-smoke and scripts/fuzz-long: where a target's corpus and
# dictionary are and the libFuzzer options every run uses. Source it; needs $root.

# fuzz/corpus/<target>: seeds (fuzz/make-seeds) plus what fuzz-long merged back.
fuzz_corpus() { echo "$root/fuzz/corpus/$1"; }

# fuzz/dict/<target without fuzz_>.dict, when there is one.
fuzz_dict() { local d="$root/fuzz/dict/${1#fuzz_}.dict"; [ -f "$d" ] && echo "$d"; true; }

# Flow files are the only inputs that are real beyond 4 KiB (collections.yaml is 6 KiB).
fuzz_max_len() { case "$1" in fuzz_flow_yaml) echo 8192 ;; *) echo 4096 ;; esac; }

# Options for a run of target $1: dictionary, size cap; a unit over 25 s is a hang.
fuzz_options() {
  local dict; dict=$(fuzz_dict "$1")
  echo "-max_len=$(fuzz_max_len "$1") -timeout=25 -rss_limit_mb=2048 ${dict:+-dict=$dict}"
}
