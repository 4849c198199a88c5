"""A short soak for every CI run: calls start and end for a minute at about 60 at once, and
afterwards atende holds no more file descriptors (and, outside sanitizer builds, no more
memory worth naming) than after a warm-up, and the store holds every call.

The one-hour soak at 300 calls is bench/soak.py (its result: bench/results/soak_60min.md);
this one catches a leak per call in minutes: 1,200 calls that each leaked one socket would
leave 1,200 fds, and 7 KB each would show as 8 MB. The bounds are counts, not times."""
import os
import pathlib
import sqlite3
import time

import pytest

from harness import http_api
from harness.sipp import Sipp
from harness.build_info import sanitized_build

pytestmark = pytest.mark.atende_only

RATE = 20  # calls/s
HOLD_MS = 3000  # so about 60 calls are up at once
CALLS = 1200  # a minute of calls
RSS_BOUND_MB = 8.0


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_mb(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_idle(srv, timeout=60):
    """Until no call is up (active calls 0 on /metrics) and the store has caught up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, body = http_api.get(srv.http_base + "/metrics")
        text = body.decode()
        active = http_api.metric_value(text, "atende_active_calls")
        queued = http_api.metric_value(text, "atende_store_queue_depth")
        if active == 0 and not queued:
            time.sleep(1.0)  # sockets close and the worker settles after the last BYE
            return text
        time.sleep(0.5)
    pytest.fail(f"calls still up after {timeout} s\n{srv.log_tail()}")


def run_calls(srv, workdir, tag, calls, rate):
    sipp = Sipp("uac_call", srv.sip_target, workdir, calls=calls, rate=rate,
                limit=rate * HOLD_MS // 1000 + 20, duration_ms=HOLD_MS,
                timeout_s=calls // rate + 60, trace_messages=False, tag=tag,
                extra_args=["-rtp_echo"]).start()
    result = sipp.wait()
    assert result.returncode == 0 and result.successful == calls, result.explain()
    return result


def test_a_minute_of_calls_leaves_no_fd_and_no_memory_behind(server_factory, tmp_path):
    srv = server_factory(rtp_ports=400, max_calls=400)
    # Warm-up: what is made once on first use (the store's WAL, pools, caches) is made now.
    run_calls(srv, tmp_path / "warm", "warm", calls=100, rate=50)
    wait_idle(srv)
    fds_before, rss_before = fds(srv.pid()), rss_mb(srv.pid())

    run_calls(srv, tmp_path / "soak", "soak", calls=CALLS, rate=RATE)
    metrics = wait_idle(srv)
    fds_after, rss_after = fds(srv.pid()), rss_mb(srv.pid())

    assert fds_after <= fds_before + 4, (
        f"open fds {fds_before} -> {fds_after} over {CALLS} calls\n{srv.log_tail()}")
    if not sanitized_build():  # ASan's quarantine holds freed memory on purpose
        assert rss_after - rss_before < RSS_BOUND_MB, (
            f"RSS {rss_before:.1f} -> {rss_after:.1f} MB over {CALLS} calls")
    assert not http_api.metric_value(metrics, "atende_store_dropped_writes_total")
    with sqlite3.connect(srv.data_dir / "atende.db") as db:
        stored, open_calls = db.execute(
            "select count(*), sum(ended_at is null) from calls").fetchone()
    assert stored == CALLS + 100 and not open_calls
