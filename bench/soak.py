#!/usr/bin/python3
"""Soak: calls starting and ending for a long time at a steady concurrency; atende's RSS and
open file descriptors must stay flat (a leak per call shows as a slope).

SIPp (tests/e2e/sipp/uac_call.xml, -rtp_echo: what atende says comes back to it, so RTP
flows both ways) calls the `echo` flow at --rate calls/s, each held --hold seconds, so about
rate x hold calls are up at any time (default 30/s x 10 s = 300). Every --sample seconds:
atende's RSS, open fds, threads, live calls (from /metrics) and CPU.

Verdict per quantity: the mean of the first and the last fifth of the samples after the ramp
(one hold time), and the least-squares slope over the same span, per minute. Flat means the
last fifth is within 5 % (RSS) or 10 fds of the first and the slope says no steady growth.
Also: the store holds a record for every call SIPp completed, and none was dropped
(atende_store_dropped_writes_total).

Usage: bench/soak.py [--build-dir DIR] [--minutes 10] [--rate 30] [--hold 10]
                     [--sample 10] [--results-dir DIR]
Results: bench/results/soak.{json,md}. Bounded: minutes + 3 minutes.
"""
import argparse
import os
import pathlib
import re
import sqlite3
import tempfile
import time
import urllib.request

import bench_common as bc
from harness import procs
from harness.sipp import Sipp

RTP_PORTS = (10000, 19999)


def metric(text, name):
    m = re.search(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+-]+)$", text, re.M)
    return float(m.group(1)) if m else None


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def fit(points):
    """Least-squares slope (per minute) and the first/last fifth means of (t_s, value)."""
    points = [(t, v) for t, v in points if v is not None]
    if len(points) < 5:
        return {}
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    slope = sum((t - mt) * (v - mv) for t, v in points) / var if var else 0.0
    k = max(1, n // 5)
    return {"first": round(sum(v for _, v in points[:k]) / k, 1),
            "last": round(sum(v for _, v in points[-k:]) / k, 1),
            "max": round(max(v for _, v in points), 1),
            "slope_per_min": round(slope * 60, 3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--rate", type=float, default=30)
    ap.add_argument("--hold", type=float, default=10)
    ap.add_argument("--sample", type=float, default=10)
    bc.add_results_dir_arg(ap)
    args = ap.parse_args()
    build = bc.find_build_dir(args.build_dir).resolve()
    atende = build / "atende"
    if not bc.atende_usable(atende):
        raise SystemExit(f"{atende} cannot `serve`")
    seconds = args.minutes * 60
    concurrency = int(args.rate * args.hold)
    results = {"machine": bc.machine(), "minutes": args.minutes, "rate": args.rate,
               "hold_s": args.hold, "concurrency": concurrency,
               "loadavg_before": [round(x, 2) for x in os.getloadavg()], "samples": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        server = bc.Server("atende", atende, tmp, max_calls=concurrency * 2 + 100,
                           extra_args=["--log-level", "warn"])
        server.rtp_range = RTP_PORTS
        server.start()
        try:
            calls = int(args.rate * seconds)
            sipp = Sipp("uac_call", server.sip_target, tmp / "sipp", calls=calls,
                        rate=args.rate, limit=concurrency + 50,
                        duration_ms=int(args.hold * 1000), timeout_s=seconds + 120,
                        trace_messages=False, tag="soak",
                        extra_args=["-rtp_echo", "-max_socket", "2000"]).start()
            t0 = time.monotonic()
            cpu0 = procs.cpu_seconds(server.pid())
            while sipp.proc.poll() is None and time.monotonic() - t0 < seconds + 120:
                time.sleep(args.sample)
                pid = server.pid()
                try:
                    with urllib.request.urlopen(f"{server.http_base}/metrics", timeout=5) as r:
                        text = r.read().decode()
                except OSError:
                    text = ""
                results["samples"].append({
                    "t_s": round(time.monotonic() - t0, 1),
                    "rss_mb": round(procs.rss_bytes(pid) / 1e6, 2),
                    "fds": fd_count(pid), "threads": procs.thread_count(pid),
                    "active_calls": metric(text, "atende_active_calls"),
                    "cpu_pct": round(100 * (procs.cpu_seconds(pid) - cpu0)
                                     / (time.monotonic() - t0), 1)})
                print(results["samples"][-1], flush=True)
            result = sipp.wait()
            results["sipp"] = {"successful": result.successful, "failed": result.failed,
                               "exit": result.returncode}
            with urllib.request.urlopen(f"{server.http_base}/metrics", timeout=5) as r:
                results["store_dropped_writes"] = metric(r.read().decode(),
                                                         "atende_store_dropped_writes_total")
        finally:
            server.stop(timeout=60)
        db = next(tmp.rglob("*.db"), None)
        if db:
            with sqlite3.connect(db) as c:
                results["store_calls"] = c.execute("select count(*) from calls").fetchone()[0]
    # After the ramp (calls start ending) and before SIPp stops starting new ones.
    steady = [s for s in results["samples"] if args.hold * 2 <= s["t_s"] <= seconds]
    results["fit"] = {k: fit([(s["t_s"], s[k]) for s in steady])
                      for k in ("rss_mb", "fds", "threads", "active_calls")}
    r, f = results["fit"].get("rss_mb", {}), results["fit"].get("fds", {})
    results["flat"] = bool(r and f and r["last"] <= r["first"] * 1.05
                           and f["last"] <= f["first"] + 10)
    results["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    bc.write_results("soak", results, markdown(results), out=args.results_dir)


def markdown(results):
    m = results["machine"]
    sipp = results.get("sipp", {})
    lines = [f"# Soak: {results['minutes']:g} min at ~{results['concurrency']} concurrent calls",
             "", f"{m['when']}, {m['host']}, {m['cpus']} CPUs, kernel {m['kernel']}; load "
             f"average before {results['loadavg_before']}, after {results.get('loadavg_after')}. "
             f"SIPp uac_call.xml with -rtp_echo at {results['rate']:g} calls/s, each held "
             f"{results['hold_s']:g} s, to the `echo` flow (every call stored in SQLite).", "",
             f"Calls completed by SIPp: {sipp.get('successful')} (failed {sipp.get('failed')}); "
             f"records in the store: {results.get('store_calls')}; store dropped writes: "
             f"{results.get('store_dropped_writes')}. **Flat: {results['flat']}**", "",
             "| quantity | first fifth | last fifth | max | slope per minute |",
             "|---|---|---|---|---|"]
    for k, v in results["fit"].items():
        if v:
            lines.append(f"| {k} | {v['first']} | {v['last']} | {v['max']} | "
                         f"{v['slope_per_min']} |")
    lines += ["", "Samples every few seconds after a ramp of one hold time (bench/results/"
              "soak.json has them all). RSS in MB (VmRSS), fds = /proc/PID/fd entries."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
