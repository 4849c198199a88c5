#!/usr/bin/python3
"""Calls during an INVITE flood (docs/security.md): a legitimate SIPp caller from 127.0.0.2
places short calls (tests/e2e/sipp/uac_call.xml, 100/s) while another SIPp from 127.0.0.9
sends INVITEs as fast as a scanner (tests/e2e/sipp/flood_invite.xml, 5,000/s, never waiting
for an answer). atende's access rules limit INVITEs to 200/s per source and drop a source
over it for 60 s.

Phases, each on a fresh server, in one run (ratios travel, absolute numbers do not):
  quiet    the caller alone: the baseline CPU
  flood    caller + flood, the kernel filter on (the default)
  no_bpf   caller + flood, `kernel_filter: false`: every flood INVITE reaches sofia and is
           refused in the SIP thread (what the filter saves)

Per phase: the caller's calls completed (target >= 99 %), atende's CPU % (utime+stime from
/proc over the phase), RSS, the flood's INVITEs sent, and atende's refusal metrics.

Usage: bench/access_flood.py [--build-dir DIR] [--seconds 10] [--rate 100] [--flood 5000]
Results: bench/results/access_flood.{json,md}. About 3 x (seconds + 5) s.
"""
import argparse
import os
import pathlib
import tempfile
import time

import bench_common as bc
from harness import http_api, procs
from harness.config import write_config
from harness.sipp import Sipp

LEGIT, STRANGER = "127.0.0.2", "127.0.0.9"
RTP_PORTS = (10000, 19999)


def metric(text, name, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    head = f"{name}{{{want}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(head + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def run_phase(name, binary, args, workdir, flood, kernel_filter):
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = write_config(workdir, access={
        "allow": ["127.0.0.0/8"], "trusted": [LEGIT], "exempt": [],
        "kernel_filter": kernel_filter,
        "limits": {"invite_per_second": 200, "invite_burst": 400, "over_limit": "drop",
                   "block_seconds": 60}})
    server = bc.Server("atende", binary, workdir, max_calls=100000,
                       extra_args=["--config", str(cfg), "--log-level", "warn"])
    server.rtp_range = RTP_PORTS
    server.start()
    try:
        time.sleep(0.5)
        rss0 = procs.rss_bytes(server.pid())
        calls = int(args.rate * args.seconds)
        load0 = os.getloadavg()[0]
        cpu0, t0 = procs.cpu_seconds(server.pid()), time.monotonic()
        legit = Sipp("uac_call", server.sip_target, workdir, calls=calls, rate=args.rate,
                     duration_ms=0, timeout_s=args.seconds + 30, local_ip=LEGIT, tag="legit",
                     trace_messages=False, extra_args=["-max_socket", "1000"])
        flooder = None
        if flood:
            flooder = Sipp("flood_invite", server.sip_target, workdir,
                           calls=int(args.flood * args.seconds), rate=args.flood,
                           timeout_s=args.seconds + 30, local_ip=STRANGER, tag="flood",
                           trace_messages=False, extra_args=["-rp", "1000"])
            flooder.start()
        legit.start()
        lr = legit.wait()
        fr = flooder.wait() if flooder else None
        elapsed = time.monotonic() - t0
        cpu = procs.cpu_seconds(server.pid()) - cpu0
        text = http_api.get_text(server.http_base + "/metrics")
        return {
            "phase": name, "kernel_filter": kernel_filter, "flood": flood,
            "legit_calls": calls, "legit_completed": lr.successful, "legit_failed": lr.failed,
            "legit_completed_pct": round(100.0 * lr.successful / calls, 2) if calls else 0,
            "flood_invites_sent": fr.created if fr else 0,
            "flood_rate_achieved": round(fr.created / elapsed, 1) if fr else 0,
            "elapsed_s": round(elapsed, 2),
            "atende_cpu_pct": round(100.0 * cpu / elapsed, 1),
            "atende_rss_mb": round(procs.rss_bytes(server.pid()) / 1e6, 1),
            "atende_rss_growth_mb": round((procs.rss_bytes(server.pid()) - rss0) / 1e6, 1),
            "refused_rate": metric(text, "atende_sip_refused_total", reason="rate"),
            "refused_denied": metric(text, "atende_sip_refused_total", reason="denied"),
            "dropped_in_kernel": metric(text, "atende_sip_dropped_in_kernel_total"),
            "blocked_sources": metric(text, "atende_sip_blocked_sources"),
            "loadavg_1m_before": round(load0, 2), "loadavg_1m_after": round(os.getloadavg()[0], 2),
        }
    finally:
        server.stop(timeout=30)


def markdown(r):
    m = r["machine"]
    busy = max(p["loadavg_1m_before"] for p in r["phases"]) > m["cpus"]
    lines = ["# Calls during an INVITE flood (access rules)", "",
             f"{m['when']}, {m['host']}, {m['cpus']} CPUs, kernel {m['kernel']}; "
             f"{r['seconds']:g} s per phase, fresh server per phase. Legitimate caller: SIPp "
             f"uac_call.xml from {LEGIT} at {r['rate']}/s; flood: SIPp flood_invite.xml from "
             f"{STRANGER} at {r['flood']}/s (INVITE only, never waits). atende: `access.limits."
             "invite_per_second: 200` (burst 400), over it dropped for 60 s. SIPp (both) runs on "
             "the same 2 cores as atende.", ""]
    if busy:
        lines += ["**Busy machine**: the host is shared and its 1-minute load average was above "
                  "its CPU count during the run (see the load columns): absolute CPU numbers "
                  "are inflated; compare phases of this run only.", ""]
    lines += ["| phase | kernel filter | flood sent (/s) | legit completed | atende CPU % | "
              "RSS MB (growth) | refused rate | dropped in kernel | load 1m before/after |",
              "|---|---|---|---|---|---|---|---|---|"]
    for p in r["phases"]:
        lines.append(
            f"| {p['phase']} | {'on' if p['kernel_filter'] else 'off'} | "
            f"{p['flood_invites_sent']} ({p['flood_rate_achieved']}) | "
            f"{p['legit_completed']}/{p['legit_calls']} ({p['legit_completed_pct']} %) | "
            f"{p['atende_cpu_pct']} | {p['atende_rss_mb']} ({p['atende_rss_growth_mb']:+}) | "
            f"{int(p['refused_rate'])} | {int(p['dropped_in_kernel'])} | "
            f"{p['loadavg_1m_before']}/{p['loadavg_1m_after']} |")
    s = r["summary"]
    lines += ["",
              f"Legitimate calls completed during the flood: **{s['flood_completed_pct']} %** "
              f"(target >= 99 %; {s['no_bpf_completed_pct']} % without the kernel filter).",
              f"atende CPU under the flood / without it: **{s['cpu_ratio_flood']}** with the "
              f"kernel filter, {s['cpu_ratio_no_bpf']} without.",
              "",
              "How to read it: *refused rate* counts the flood INVITEs that reached atende's SIP "
              "thread and were refused there (before the source was in the kernel filter, or "
              "all of them with the filter off); *dropped in kernel* counts datagrams the "
              "socket filter dropped before sofia read them (SO_MEMINFO drops of the SIP "
              "sockets, which also counts receive-buffer overflows)."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rate", type=int, default=100)
    ap.add_argument("--flood", type=int, default=5000)
    bc.add_results_dir_arg(ap)
    args = ap.parse_args()
    build = bc.find_build_dir(args.build_dir).resolve()  # the server runs in its own dir
    atende = build / "atende"
    if not bc.atende_usable(atende):
        raise SystemExit(f"{atende} cannot `serve`")
    results = {"machine": bc.machine(), "seconds": args.seconds, "rate": args.rate,
               "flood": args.flood, "phases": []}
    with tempfile.TemporaryDirectory() as tmp:
        for name, flood, bpf in (("quiet", False, True), ("flood", True, True),
                                 ("no_bpf", True, False)):
            phase = run_phase(name, atende, args, pathlib.Path(tmp) / name, flood, bpf)
            print(phase, flush=True)
            results["phases"].append(phase)
    by = {p["phase"]: p for p in results["phases"]}
    quiet_cpu = by["quiet"]["atende_cpu_pct"] or 0.1
    results["summary"] = {
        "flood_completed_pct": by["flood"]["legit_completed_pct"],
        "no_bpf_completed_pct": by["no_bpf"]["legit_completed_pct"],
        "cpu_ratio_flood": round(by["flood"]["atende_cpu_pct"] / quiet_cpu, 2),
        "cpu_ratio_no_bpf": round(by["no_bpf"]["atende_cpu_pct"] / quiet_cpu, 2),
    }
    bc.write_results("access_flood", results, markdown(results), out=args.results_dir)


if __name__ == "__main__":
    main()
