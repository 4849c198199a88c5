"""Shared by the bench scripts: paths, the e2e harness import, and result writing."""
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

BENCH_DIR = pathlib.Path(__file__).resolve().parent
SOURCE_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"  # the committed results; smoke runs pass another dir
sys.path.insert(0, str(SOURCE_DIR / "tests" / "e2e"))

from harness.server import Server  # noqa: E402,F401


def find_build_dir(arg):
    for candidate in (arg, os.environ.get("ATENDE_BUILD_DIR"), SOURCE_DIR / "build"):
        if candidate and pathlib.Path(candidate).is_dir():
            return pathlib.Path(candidate).resolve()  # servers run in their own workdir
    sys.exit("no build dir: pass --build-dir or set ATENDE_BUILD_DIR")


def atende_usable(binary):
    """True if binary looks like a server that can `serve` (not the placeholder main)."""
    if not binary or not os.access(binary, os.X_OK):
        return False
    try:
        out = subprocess.run([str(binary), "serve", "--help"], capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and "--sip-listen" in (out.stdout + out.stderr)


def machine():
    return {"host": platform.node(), "cpus": os.cpu_count(), "kernel": platform.release(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def add_results_dir_arg(ap):
    ap.add_argument("--results-dir", type=pathlib.Path, default=RESULTS_DIR,
                    help="where the results files go (default bench/results; a smoke run "
                         "passes a temporary dir so the committed results stay as they are)")


def write_results(name, data, markdown, quiet=False, out=RESULTS_DIR):
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    (out / f"{name}.md").write_text(markdown)
    if quiet:
        return
    print(markdown)
    print(f"written: {out / (name + '.json')}, {out / (name + '.md')}")
