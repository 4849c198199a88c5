#!/usr/bin/python3
"""SRTP's cost: M concurrent echo calls from bench/loadgen_echo against atende's `echo`
flow, once with plain RTP and once with SRTP (loadgen_echo --srtp: RTP/SAVP offers with an
SDES key per call, AES_CM_128_HMAC_SHA1_80, every packet protected and checked by libsrtp2
on both sides), on fresh servers, in the same run, alternating which goes first per step.

Per step: atende's CPU us per packet handled (packets to it + from it, steady window) for
each, the ratio SRTP / plain (target <= 1.3), and the pacing jitter, loss and echo check of
each (an SRTP packet that does not decrypt on the generator counts in srtp_failed).

Usage: bench/srtp_load.py [--build-dir DIR] [--calls 250,500,1000] [--seconds 8]
                          [--warmup 2] [--rounds 1] [--results-dir DIR]
Results: bench/results/srtp_load.{json,md} (or in --results-dir).
"""
import argparse
import pathlib
import tempfile

import bench_common as bc
import echo_load

TARGET_RATIO = 1.3


def one(binary, loadgen, calls, args, tmp, srtp, tag):
    r = echo_load.bench_atende(binary, loadgen, calls, args.seconds, args.warmup,
                               pathlib.Path(tmp) / f"atende_{tag}_{calls}",
                               loadgen_args=["--srtp", "1"] if srtp else [],
                               server_args=["--srtp", "required"] if srtp else [])
    r["misses"] = echo_load.misses(r, calls)
    if srtp and r.get("srtp_failed"):
        r["misses"].append(f"{r['srtp_failed']} SRTP packets did not decrypt at the generator")
    print("srtp" if srtp else "plain", calls, {k: r.get(k) for k in (
        "established", "packets_sent", "packets_received", "server_cpu_us_per_packet",
        "jitter_p99_ms", "loss_pct", "echo_matched", "srtp_failed", "send_late_p99_ms")},
        flush=True)
    return r


COLS = [("packets_sent", "sent"), ("packets_received", "received"), ("echo_matched", "echoed ok"),
        ("loss_pct", "loss %"), ("jitter_p99_ms", "jitter p99 ms"),
        ("server_cpu_pct", "server CPU %"), ("server_cpu_us_per_packet", "CPU us/pkt"),
        ("loadgen_cpu_pct", "gen CPU %"), ("send_late_p99_ms", "gen late p99 ms"),
        ("srtp_failed", "SRTP failed"), ("loadavg_1m_after", "load 1m")]


def markdown(results):
    m = results["machine"]
    lines = ["# SRTP cost: atende echo flow, plain RTP vs. SRTP", "",
             f"{m['when']}, {m['host']}, {m['cpus']} CPUs, kernel {m['kernel']}; "
             f"{results['seconds']:g} s steady window after {results['warmup']:g} s warm-up, "
             "50 packets/s per stream each way, generator bench/loadgen_echo "
             f"(scheduling: {results['generator_sched']}), {results['rounds']} round(s) per M.",
             "",
             "| M | round | media | " + " | ".join(c[1] for c in COLS) + " | verdict |",
             "|---" * (len(COLS) + 4) + "|"]
    for step in results["steps"]:
        for label in ("plain", "srtp"):
            r = step[label]
            verdict = "; ".join(r.get("misses", [])) or "ok"
            lines.append(f"| {step['calls']} | {step['round']} | {label} | " +
                         " | ".join(str(r.get(c[0], "-")) for c in COLS) + f" | {verdict} |")
    lines += ["", f"| M | round | CPU us/pkt ratio SRTP/plain (target <= {TARGET_RATIO}) |",
              "|---|---|---|"]
    for step in results["steps"]:
        lines.append(f"| {step['calls']} | {step['round']} | {step.get('cpu_ratio', 'n/a')} |")
    lines += ["", "CPU us/pkt = atende's CPU (utime+stime of all threads, /proc) over the "
              "steady window / (packets to it + packets from it). SRTP rows: the generator "
              "offers RTP/SAVP with a=crypto and atende runs `--srtp required`; atende "
              "unprotects every packet in, protects every packet out (and its RTCP), in place. "
              "echoed ok = packets whose payload came back equal to what was sent (after the "
              "generator's own unprotect for SRTP). Fresh server per row; the two media kinds "
              "alternate which runs first."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir")
    ap.add_argument("--calls", default="250,500,1000")
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--rounds", type=int, default=1)
    bc.add_results_dir_arg(ap)
    args = ap.parse_args()
    build = bc.find_build_dir(args.build_dir)
    loadgen = build / "bench" / "loadgen_echo"
    atende = build / "atende"
    if not bc.atende_usable(atende):
        raise SystemExit(f"{atende} cannot `serve`")
    results = {"machine": bc.machine(), "seconds": args.seconds, "warmup": args.warmup,
               "rounds": args.rounds,
               "generator_sched": " ".join(echo_load.GENERATOR_PREFIX) or "normal",
               "target_ratio": TARGET_RATIO, "steps": []}
    with tempfile.TemporaryDirectory() as tmp:
        for calls in (int(c) for c in args.calls.split(",")):
            for rnd in range(args.rounds):
                step = {"calls": calls, "round": rnd + 1}
                order = (False, True) if rnd % 2 == 0 else (True, False)
                for srtp in order:
                    step["srtp" if srtp else "plain"] = one(
                        atende, loadgen, calls, args, tmp, srtp, f"{rnd}_{int(srtp)}")
                plain_us = step["plain"].get("server_cpu_us_per_packet")
                srtp_us = step["srtp"].get("server_cpu_us_per_packet")
                if plain_us and srtp_us:
                    step["cpu_ratio"] = round(srtp_us / plain_us, 3)
                results["steps"].append(step)
                bc.write_results("srtp_load", results, markdown(results), quiet=True,
                                 out=args.results_dir)
    bc.write_results("srtp_load", results, markdown(results), out=args.results_dir)


if __name__ == "__main__":
    main()
