#!/usr/bin/env python3
"""What one Prometheus scrape of /metrics costs while N calls are live (issue 14).

For each N (default 0 and 1000): atende runs the echo flow with N calls from loadgen_echo
(RTP both ways, 50 packets/s each); once they are all up, one keep-alive HTTP client asks
alternately for GET /healthz (the baseline: the same listener, connection and thread, no
work) and GET /metrics, ROUNDS times each, and times every answer on the client side.
Then atende's CPU is read over a window of back-to-back scrapes and over an equal window
with no request at all (same calls up): the difference per scrape is what a scrape costs
the server. Prometheus scrapes every 15 s by default, so a scrape's cost is spread thin;
what matters is that it stays small and never stalls the calls (the media threads are not
the HTTP thread).

Usage: bench/metrics_scrape.py [--build-dir build] [--calls 0,1000] [--rounds 200]
       [--results-dir DIR]
Results: bench/results/metrics_scrape.{json,md}.
"""
import argparse
import http.client
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_common as bc  # noqa: E402
from harness import procs  # noqa: E402

RTP_PORTS = (20000, 29999)


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def live_calls(conn):
    conn.request("GET", "/api/live")
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        return -1
    live = json.loads(body)
    return len(live if isinstance(live, list) else live.get("calls", []))


def timed_get(conn, path):
    t0 = time.perf_counter()
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    elapsed = time.perf_counter() - t0
    if resp.status != 200:
        raise RuntimeError(f"GET {path}: {resp.status}")
    return elapsed, len(body)


def cpu_window(pid, seconds, work):
    """atende's CPU seconds over `seconds` of wall time while `work()` runs in a loop (or
    idles when work is None); returns (cpu_s, wall_s, iterations)."""
    c0, t0 = procs.cpu_seconds(pid), time.monotonic()
    n = 0
    while time.monotonic() - t0 < seconds:
        if work:
            work()
            n += 1
        else:
            time.sleep(0.05)
    return procs.cpu_seconds(pid) - c0, time.monotonic() - t0, n


def step(build, calls, rounds, workdir):
    server = bc.Server("atende", build / "atende", workdir, max_calls=calls + 100,
                       extra_args=["--log-level", "warn"])
    server.rtp_range = RTP_PORTS
    server.start()
    gen = None
    try:
        host, port = server.http_base.split("//")[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        hold = 30 + calls / 100
        if calls:
            gen = subprocess.Popen(
                [str(build / "bench" / "loadgen_echo"), "--sip", server.sip_target,
                 "--service", "echo", "--calls", str(calls), "--seconds", str(hold),
                 "--warmup", "1", "--server-pid", str(server.pid()), "--payload", "tone"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 30 + calls / 50
            while live_calls(conn) < calls and time.monotonic() < deadline:
                time.sleep(0.5)
        up = live_calls(conn)
        health, scrape, size = [], [], 0
        for _ in range(rounds):
            health.append(timed_get(conn, "/healthz")[0])
            t, size = timed_get(conn, "/metrics")
            scrape.append(t)
        pid = server.pid()
        busy_cpu, busy_wall, n = cpu_window(pid, 3.0, lambda: timed_get(conn, "/metrics"))
        idle_cpu, idle_wall, _ = cpu_window(pid, busy_wall, None)
        up_after = live_calls(conn)
        per_scrape_ms = 1000 * (busy_cpu - idle_cpu * busy_wall / idle_wall) / max(1, n)
        ms = lambda v: round(1000 * v, 3)  # noqa: E731
        return {
            "calls": calls, "live_before": up, "live_after": up_after,
            "metrics_bytes": size,
            "healthz_p50_ms": ms(statistics.median(health)),
            "healthz_p99_ms": ms(percentile(health, 0.99)),
            "metrics_p50_ms": ms(statistics.median(scrape)),
            "metrics_p99_ms": ms(percentile(scrape, 0.99)),
            "metrics_over_healthz_p50": round(statistics.median(scrape) /
                                              statistics.median(health), 1),
            "scrapes_in_cpu_window": n,
            "server_cpu_ms_per_scrape": round(per_scrape_ms, 3),
            "server_cpu_pct_idle_window": round(100 * idle_cpu / idle_wall, 1),
            "loadavg_1m": round(os.getloadavg()[0], 2),
        }
    finally:
        if gen:
            gen.terminate()
            try:
                gen.wait(30)
            except subprocess.TimeoutExpired:
                gen.kill()
        server.stop(timeout=30)


def markdown(res):
    lines = [
        "# /metrics scrape cost with live calls",
        "",
        f"{res['machine']['when']}, {res['machine']['cpus']} CPUs, {res['rounds']} rounds per "
        "step; one keep-alive client; baseline GET /healthz on the same connection. "
        "*CPU ms/scrape*: atende's CPU over 3 s of back-to-back scrapes minus the same window "
        "with no request (same calls up), per scrape.",
        "",
        "| live calls | /metrics bytes | healthz p50/p99 ms | metrics p50/p99 ms | metrics/healthz p50 "
        "| CPU ms/scrape | atende CPU % (no scrapes) | load 1m |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in res["steps"]:
        lines.append(
            f"| {s['live_before']} (of {s['calls']}) | {s['metrics_bytes']} | "
            f"{s['healthz_p50_ms']} / {s['healthz_p99_ms']} | {s['metrics_p50_ms']} / "
            f"{s['metrics_p99_ms']} | {s['metrics_over_healthz_p50']} | "
            f"{s['server_cpu_ms_per_scrape']} | {s['server_cpu_pct_idle_window']} | "
            f"{s['loadavg_1m']} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir")
    ap.add_argument("--calls", default="0,1000")
    ap.add_argument("--rounds", type=int, default=200)
    bc.add_results_dir_arg(ap)
    args = ap.parse_args()
    build = bc.find_build_dir(args.build_dir)
    if not bc.atende_usable(build / "atende"):
        raise SystemExit(f"{build / 'atende'} cannot `serve`")
    res = {"machine": bc.machine(), "rounds": args.rounds, "steps": []}
    with tempfile.TemporaryDirectory() as tmp:
        for calls in (int(c) for c in args.calls.split(",")):
            s = step(build, calls, args.rounds, pathlib.Path(tmp) / f"atende_{calls}")
            print(s, flush=True)
            res["steps"].append(s)
            bc.write_results("metrics_scrape", res, markdown(res), quiet=True,
                             out=args.results_dir)
    bc.write_results("metrics_scrape", res, markdown(res), out=args.results_dir)


if __name__ == "__main__":
    main()
