#!/usr/bin/python3
"""Call-rate benchmark: SIPp places short calls (INVITE, 200, ACK, BYE; tests/e2e/sipp/
uac_call.xml with no hold time) at increasing rates against the bare sofia-sip UAS
(bench/baseline_sofia_uas) and against atende in the same run, each step on a freshly started
server, bare and atende interleaved per rate so machine noise hits both alike.

Per rate and server: calls/s achieved, success %, server CPU % (utime+stime from /proc), CPU
ms per call, SIPp's own CPU %, and the failure codes seen. A server's ramp stops at its
first step under 99.99 % success. Result: the highest rate each sustains, and atende/bare.

Usage: bench/call_rate.py [--build-dir DIR] [--rates 500,1000,...,5000] [--seconds 10]
Results: bench/results/call_rate.{json,md}. Each step is bounded (seconds + 40 s).
"""
import argparse
import collections
import os
import pathlib
import re
import resource
import tempfile
import time

import bench_common as bc
from harness import procs
from harness.sipp import Sipp

SUCCESS_PCT = 99.99
RTP_PORTS = (10000, 19999)  # atende's media ports: wide, clear of the ephemeral range


def children_cpu_s():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def failure_codes(result, server):
    """Status codes SIPp did not expect (from its error log) and atende's warnings."""
    codes = collections.Counter(re.findall(r"SIP/2\.0 (\d{3}) ", result.errors))
    notes = {f"sip_{code}": n for code, n in codes.most_common(5)}
    if server.kind == "atende":
        warn = [l for l in server.stderr_text().splitlines() if " warn" in l or "error" in l]
        if warn:
            notes["atende_log"] = warn[-5:]
    if "Dead call" in result.errors or "Aborting call" in result.errors:
        notes["sipp_errors_tail"] = result.errors[-600:]
    return notes


def run_step(kind, binary, rate, seconds, workdir):
    extra = ["--log-level", "warn"] if kind == "atende" else []
    server = bc.Server(kind, binary, workdir, extra_args=extra,
                       max_calls=100000 if kind == "atende" else None)
    if kind == "atende":
        server.rtp_range = RTP_PORTS
    server.start()
    try:
        calls = int(rate * seconds)
        cpu0, t0, sipp_cpu0 = procs.cpu_seconds(server.pid()), time.monotonic(), children_cpu_s()
        sipp = Sipp("uac_call", server.sip_target, workdir, calls=calls, rate=rate,
                    limit=max(100, rate * 2), duration_ms=0, timeout_s=seconds + 30,
                    tag=f"{kind}_{rate}", trace_messages=False,
                    extra_args=["-rp", "1000", "-max_socket", "1000"])
        result = sipp.start().wait()
        elapsed = time.monotonic() - t0
        cpu = procs.cpu_seconds(server.pid()) - cpu0
        sipp_cpu = children_cpu_s() - sipp_cpu0  # SIPp is the child that just ended
        step = {
            "target_rate": rate, "calls": calls, "elapsed_s": round(elapsed, 2),
            "successful": result.successful, "failed": result.failed,
            "achieved_cps": round(result.successful / elapsed, 1),
            "success_pct": round(100.0 * result.successful / calls, 3) if calls else 0.0,
            "server_cpu_pct": round(100.0 * cpu / elapsed, 1),
            "server_cpu_ms_per_call": round(1000.0 * cpu / max(1, result.successful), 3),
            "sipp_cpu_pct": round(100.0 * sipp_cpu / elapsed, 1),
            "server_rss_mb": round(procs.rss_bytes(server.pid()) / 1e6, 1),
            "sipp_exit": result.returncode,
            "loadavg_1m_after": os.getloadavg()[0],  # how busy the shared machine was
        }
        if step["success_pct"] < SUCCESS_PCT:
            step["failures"] = failure_codes(result, server)
        return step
    finally:
        server.stop(timeout=30)


def markdown(results):
    m = results["machine"]
    lines = ["# Call rate: atende vs. bare sofia-sip UAS", "",
             f"{m['when']}, {m['host']}, {m['cpus']} CPUs, kernel {m['kernel']}; "
             f"{results['seconds_per_step']:g} s per step, SIPp uac_call.xml (answer + BYE, no "
             "hold), `-rp 1000`, fresh server per step. SIPp runs on the same 2 cores.", "",
             "| server | target/s | achieved/s | success % | server CPU % | CPU ms/call | "
             "SIPp CPU % | RSS MB | failures |", "|---|---|---|---|---|---|---|---|---|"]
    for step in results["steps"]:
        for label in ("bare", "atende"):
            s = step.get(label)
            if s is None:
                continue
            fails = s.get("failures", {})
            brief = ", ".join(f"{k}: {v}" for k, v in fails.items() if k.startswith("sip_"))
            lines.append(f"| {label} | {s['target_rate']} | {s['achieved_cps']} | "
                         f"{s['success_pct']} | {s['server_cpu_pct']} | "
                         f"{s['server_cpu_ms_per_call']} | {s['sipp_cpu_pct']} | "
                         f"{s['server_rss_mb']} | {brief or ('-' if not fails else 'see json')} |")
    lines += ["", "| target/s | CPU ms/call ratio atende/bare |", "|---|---|"]
    for step in results["steps"]:
        if "cpu_ratio" in step:
            lines.append(f"| {step['target_rate']} | {step['cpu_ratio']} |")
    s = results["summary"]
    lines += ["", f"Highest achieved rate with >= {SUCCESS_PCT} % success: bare **{s['bare_max_cps']}**"
              f"/s, atende **{s['atende_max_cps']}**/s; ratio atende/bare **{s['ratio']}** "
              "(target: >= 0.5 and atende >= 1000/s).",
              "A step counts when its success is >= 99.99 %; its achieved rate (not the target) "
              "is the server's. When no step failed the max is a floor (the ramp ran out).",
              "CPU ratios are listed only for rates both servers held."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir")
    ap.add_argument("--rates", default="500,1000,1500,2000,3000,4000,5000")
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    build = bc.find_build_dir(args.build_dir)
    atende = build / "atende"
    if not bc.atende_usable(atende):
        raise SystemExit(f"{atende} cannot `serve`")
    servers = {"bare": ("baseline", build / "bench" / "baseline_sofia_uas"),
               "atende": ("atende", atende)}
    results = {"machine": bc.machine(), "seconds_per_step": args.seconds, "steps": []}
    best = {"bare": 0, "atende": 0}
    stopped = set()
    with tempfile.TemporaryDirectory() as tmp:
        for rate in (int(r) for r in args.rates.split(",")):
            step = {"target_rate": rate}
            for label, (kind, binary) in servers.items():
                if label in stopped:
                    continue
                step[label] = run_step(kind, binary, rate, args.seconds,
                                       pathlib.Path(tmp) / f"{label}_{rate}")
                print(label, step[label], flush=True)
                if step[label]["success_pct"] >= SUCCESS_PCT:
                    # What it sustained, not what was asked: SIPp may fall short of the target.
                    best[label] = max(best[label], step[label]["achieved_cps"])
                else:
                    stopped.add(label)
            if all(step.get(k, {}).get("success_pct", 0) >= SUCCESS_PCT
                   for k in ("bare", "atende")):  # CPU per call only compares when both held
                step["cpu_ratio"] = round(step["atende"]["server_cpu_ms_per_call"] /
                                          step["bare"]["server_cpu_ms_per_call"], 2)
            results["steps"].append(step)
            summarise(results, best, servers, stopped)
            # After every step, so a run cut short by run-all's timeout still leaves results.
            bc.write_results("call_rate", results, markdown(results), quiet=True)
            if len(stopped) == len(servers):
                break
    bc.write_results("call_rate", results, markdown(results))


def summarise(results, best, servers, stopped):
    results["summary"] = {
        "bare_max_cps": best["bare"], "atende_max_cps": best["atende"],
        "ratio": round(best["atende"] / best["bare"], 2) if best["bare"] else None,
        "ramp_exhausted": sorted(set(servers) - stopped)}


if __name__ == "__main__":
    main()
