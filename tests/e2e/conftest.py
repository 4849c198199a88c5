"""Fixtures for the end-to-end suite.

Each test gets its own server process on free loopback ports with a temporary data dir; at
teardown the server is stopped with SIGTERM and must exit 0 with no crash or sanitizer
report in its stderr (a teardown failure shows as a test error, with the log tail).

Environment (ctest sets the first three):
  ATENDE_BIN          the atende binary under test
  ATENDE_SOURCE_DIR   repo root (flows/ is passed as --flows-dir when present)
  ATENDE_BUILD_DIR    build dir (tools/audiotool, bench/baseline_sofia_uas)
  ATENDE_E2E_SERVER   "baseline" runs the SIP-only tests against bench/baseline_sofia_uas,
                      to check the scenarios and this harness without atende.
"""
import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from harness.server import Server  # noqa: E402


def _server_kind():
    return "baseline" if os.environ.get("ATENDE_E2E_SERVER") == "baseline" else "atende"


def _build_dir():
    value = os.environ.get("ATENDE_BUILD_DIR")
    return pathlib.Path(value) if value else None


def _binary(kind):
    if kind == "baseline":
        path = os.environ.get("ATENDE_BASELINE_UAS") or (
            _build_dir() and _build_dir() / "bench" / "baseline_sofia_uas")
        what = "ATENDE_BASELINE_UAS or ATENDE_BUILD_DIR/bench/baseline_sofia_uas"
    else:
        path = os.environ.get("ATENDE_BIN")
        what = "ATENDE_BIN"
    if not path:
        pytest.skip(f"{what} not set: run through ctest or export it")
    path = pathlib.Path(path)
    if not os.access(path, os.X_OK):
        pytest.fail(f"server binary {path} is missing or not executable")
    return path


def pytest_collection_modifyitems(config, items):
    if _server_kind() != "baseline":
        return
    skip = pytest.mark.skip(reason="needs atende itself; this run targets the bare sofia UAS")
    for item in items:
        if "atende_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def server_factory(tmp_path):
    """start(**kwargs) -> a running Server; all are stopped and checked at teardown."""
    started = []
    kind = _server_kind()

    def start(**kwargs):
        workdir = tmp_path / f"server{len(started)}"
        srv = Server(kind, _binary(kind), workdir, **kwargs)
        started.append(srv)
        return srv.start()

    yield start
    problems = []
    for srv in started:
        if srv.killed:
            continue  # killed by the test on purpose (kill -9 tests)
        was_alive = srv.alive() or srv.exit_code is not None  # or stopped by the test
        code = srv.stop()
        crash = srv.crash_report()
        if not was_alive:
            problems.append(f"{srv.kind} had already exited ({srv.proc.returncode}) before "
                            f"teardown\n{srv.log_tail()}")
        elif code != 0:
            problems.append(f"{srv.kind} exited {code} after SIGTERM (want 0)\n{srv.log_tail()}")
        if crash:
            problems.append(f"{srv.kind} crash report: {crash}\n{srv.log_tail()}")
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def server(server_factory):
    return server_factory()


@pytest.fixture
def workdir(tmp_path):
    path = tmp_path / "peers"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def audiotool():
    """Path of tools/audiotool if it is built, else None (tests fall back to envelopes)."""
    build = _build_dir()
    path = build / "tools" / "audiotool" if build else None
    return path if path and os.access(path, os.X_OK) else None
