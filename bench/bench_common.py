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


# ---- the listening flow (issue 12): VAD + end of turn on every call -----------------------

# A menu with spoken choices listens from its first frame (prompt included) to the end of
# its wait: WebRTC VAD and the end-of-turn detector on every 20 ms frame, as an IVR menu
# waiting for an answer. The wait is 10 minutes, longer than any bench step, so the call
# keeps listening; a turn that ended would go to the recogniser (not in these benches: the
# callers send quiet noise, below the turn detector's level floor, so no turn starts).
LISTEN_FLOW_NAME = "bench_listen"
LISTEN_FLOW = """# Written by the benches (bench_common.py): listens for the whole call, like a menu.
name: bench_listen
voice: {name: en-us, rate: 165}
start: menu
steps:
  menu:
    type: menu
    prompt: "Say sales or support."
    timeout: 600s
    retries: 0
    choices:
      "1": {next: bye, say: [sales]}
      "2": {next: bye, say: [support]}
    on_failure: bye
  bye:
    type: hangup
"""


# The same listening with turns that end: a capture step that loops on itself. VAD and end
# of turn on every frame; each utterance of the caller (loadgen_echo --payload talk: a
# recording every few seconds) ends a turn, is kept as a clip (no recognition) and recorded
# as a `captured` event, and the step starts again with its short prompt.
TURNS_FLOW_NAME = "bench_turns"
TURNS_FLOW = """# Written by the benches (bench_common.py): every turn of the caller ends and is kept.
name: bench_turns
voice: {name: en-us, rate: 165}
start: listen
steps:
  listen:
    type: capture
    prompt: "Speak."
    into: said
    max_length: 4s
    timeout: 600s
    retries: 0
    next: listen
    on_failure: bye
  bye:
    type: hangup
"""
# The listening menu with a prompt longer than a load run (about 50 s of speech): every
# transport sends audio for the whole run. ASP sends audio only while atende responds (no
# frames between responses), so a short prompt would leave nothing to time or count on it.
LISTEN_LONG_FLOW_NAME = "bench_listen_long"
LISTEN_LONG_FLOW = LISTEN_FLOW.replace("name: bench_listen", "name: bench_listen_long").replace(
    'prompt: "Say sales or support."',
    'prompt: "' + " ".join(
        ["Thank you for calling. Your call matters to us and will be answered in turn.",
         "Our offices are open from eight in the morning until six in the evening,",
         "Monday to Friday, and on Saturday mornings until noon.",
         "For questions about an order you have placed, have its number ready.",
         "For questions about an invoice, have your customer number ready.",
         "Our website answers many common questions at any hour of the day.",
         "Please listen carefully, as our options have changed recently."] * 2) +
    ' Say sales or support."')
FLOWS = {LISTEN_FLOW_NAME: LISTEN_FLOW, TURNS_FLOW_NAME: TURNS_FLOW,
         LISTEN_LONG_FLOW_NAME: LISTEN_LONG_FLOW}


def write_flows_dir(path):
    """A flows dir with the repository's echo flow and the listening flows; returns it."""
    path = pathlib.Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "echo.yaml").write_text((SOURCE_DIR / "flows" / "echo.yaml").read_text())
    for name, text in FLOWS.items():
        (path / f"{name}.yaml").write_text(text)
    return path


def count_events(server, kind):
    """How many call events of `kind` the (stopped) server's store holds, and over how many
    calls."""
    import sqlite3
    db = sqlite3.connect(pathlib.Path(server.data_dir) / "atende.db")
    try:
        return db.execute("SELECT COUNT(*), COUNT(DISTINCT call_id) FROM call_events WHERE kind = ?",
                          (kind,)).fetchone()
    finally:
        db.close()


# ---- Prometheus histograms from /metrics ------------------------------------------------

def scrape(server):
    """atende's /metrics text ('' when it cannot be read)."""
    from harness import http_api
    try:
        _, body = http_api.get(server.http_base + "/metrics", timeout=5)
    except OSError:
        return ""
    return body.decode()


def histogram(text, name, labels=None):
    """{'buckets': [(upper bound, cumulative count)...], 'sum', 'count'} of one histogram
    (labels: the label pairs it must carry, e.g. {"leg": "rtp"}), or None."""
    want = [f'{k}="{v}"' for k, v in (labels or {}).items()]
    buckets, total, count = [], None, None
    for line in text.splitlines():
        if not line.startswith(name) or not all(w in line for w in want):
            continue
        key, value = line.rsplit(" ", 1)
        if key.startswith(name + "_bucket"):
            le = key.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), float(value)))
        elif key.startswith(name + "_sum"):
            total = float(value)
        elif key.startswith(name + "_count"):
            count = float(value)
    if not buckets or not count:
        return None
    return {"buckets": sorted(buckets), "sum": total, "count": count}


def histogram_delta(after, before):
    """after - before, bucket by bucket (the observations between two scrapes)."""
    if after is None:
        return None
    if before is None:
        return after
    b = dict(before["buckets"])
    out = {"buckets": [(le, c - b.get(le, 0)) for le, c in after["buckets"]],
           "sum": after["sum"] - before["sum"], "count": after["count"] - before["count"]}
    return out if out["count"] > 0 else None


def quantile(h, q):
    """Prometheus' histogram_quantile: linear inside the bucket holding rank q * count;
    the highest finite bound when it falls in +Inf. Seconds."""
    if not h or not h["count"]:
        return None
    rank = q * h["count"]
    lower, seen = 0.0, 0.0
    for le, cum in h["buckets"]:
        if cum >= rank:
            if le == float("inf"):
                return lower
            inside = cum - seen
            return lower + (le - lower) * ((rank - seen) / inside if inside else 1.0)
        lower, seen = le, cum
    return lower


def latency_summary(h):
    """p50/p99/mean in ms of a seconds histogram (None when empty)."""
    if not h:
        return None
    return {"p50_ms": round(1000 * quantile(h, 0.5), 2), "p99_ms": round(1000 * quantile(h, 0.99), 2),
            "mean_ms": round(1000 * h["sum"] / h["count"], 2), "count": int(h["count"])}
