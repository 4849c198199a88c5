#!/usr/bin/python3
"""Call-rate benchmark: SIPp places short calls (INVITE, 200, ACK, BYE; tests/e2e/sipp/
uac_call.xml with no hold time) at increasing rates against the bare sofia-sip UAS and
against atende in the same run, and reports per rate: calls/s achieved, success %, CPU % of
the server process (from /proc) and atende/bare CPU ratio.

Usage: bench/call_rate.py [--build-dir DIR] [--rates 100,200,400] [--seconds 10]
Results: bench/results/call_rate.{json,md}. Each step is bounded (seconds + 30 s).
"""
import argparse
import pathlib
import tempfile
import time

import bench_common as bc
from harness import procs
from harness.sipp import run_sipp


def run_step(server, rate, seconds, workdir):
    calls = int(rate * seconds)
    cpu0, t0 = procs.cpu_seconds(server.pid()), time.monotonic()
    result = run_sipp("uac_call", server.sip_target, workdir, calls=calls, rate=rate,
                      limit=max(50, rate * 2), duration_ms=0, timeout_s=seconds + 30,
                      tag=f"{server.kind}_{rate}",
                      trace_messages=False, extra_args=["-max_socket", "1000"])
    if result.successful == 0:
        print(result.explain())
    elapsed = time.monotonic() - t0
    cpu = procs.cpu_seconds(server.pid()) - cpu0
    return {
        "target_rate": rate, "calls": calls, "elapsed_s": round(elapsed, 2),
        "successful": result.successful, "failed": result.failed,
        "achieved_cps": round(result.successful / elapsed, 1),
        "success_pct": round(100.0 * result.successful / calls, 2) if calls else 0.0,
        "server_cpu_pct": round(100.0 * cpu / elapsed, 1),
        "server_cpu_ms_per_call": round(1000.0 * cpu / max(1, result.successful), 3),
        "server_rss_mb": round(procs.rss_bytes(server.pid()) / 1e6, 1),
        "sipp_exit": result.returncode,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir")
    ap.add_argument("--rates", default="100,200,400")
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    build = bc.find_build_dir(args.build_dir)
    rates = [int(r) for r in args.rates.split(",")]
    servers = {"bare": ("baseline", build / "bench" / "baseline_sofia_uas")}
    atende = build / "atende"
    if bc.atende_usable(atende):
        servers["atende"] = ("atende", atende)
    else:
        print(f"note: {atende} cannot `serve` yet; measuring the bare UAS only")

    results = {"machine": bc.machine(), "seconds_per_step": args.seconds, "servers": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for label, (kind, binary) in servers.items():
            server = bc.Server(kind, binary, pathlib.Path(tmp) / label,
                               max_calls=100000 if kind == "atende" else None).start()
            try:
                steps = []
                for rate in rates:
                    steps.append(run_step(server, rate, args.seconds, pathlib.Path(tmp) / label))
                    print(label, steps[-1])
                results["servers"][label] = steps
            finally:
                server.stop()

    lines = ["# Call rate: atende vs. bare sofia-sip UAS", "",
             f"{results['machine']['when']}, {results['machine']['cpus']} CPUs, "
             f"{args.seconds:g} s per step, SIPp uac_call.xml (no hold time).", "",
             "| server | target/s | achieved/s | success % | server CPU % | CPU ms/call |"
             " RSS MB |", "|---|---|---|---|---|---|---|"]
    for label, steps in results["servers"].items():
        for s in steps:
            lines.append(f"| {label} | {s['target_rate']} | {s['achieved_cps']} | "
                         f"{s['success_pct']} | {s['server_cpu_pct']} | "
                         f"{s['server_cpu_ms_per_call']} | {s['server_rss_mb']} |")
    if "atende" in results["servers"]:
        lines += ["", "| target/s | CPU ratio atende/bare |", "|---|---|"]
        ratios = []
        for bare, ours in zip(results["servers"]["bare"], results["servers"]["atende"]):
            ratio = (ours["server_cpu_ms_per_call"] / bare["server_cpu_ms_per_call"]
                     if bare["server_cpu_ms_per_call"] else None)
            ratios.append({"target_rate": bare["target_rate"], "cpu_ratio": ratio})
            lines.append(f"| {bare['target_rate']} | "
                         f"{'n/a' if ratio is None else round(ratio, 2)} |")
        results["ratios"] = ratios
    bc.write_results("call_rate", results, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
