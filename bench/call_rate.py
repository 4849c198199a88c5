#!/usr/bin/python3
"""Call-rate benchmark: SIPp places short calls at increasing rates against the bare sofia-sip
UAS (bench/baseline_sofia_uas) and against atende in the same run, each step on a freshly
started server, bare and atende interleaved per rate so machine noise hits both alike.

Each call (bench/sipp/uac_call_probe.xml: tests/e2e/sipp/uac_call.xml with its SDP naming
bench/loadgen_rtp_probe as the media address): INVITE, 200, ACK, held --hold-ms, BYE. On
atende the flow is `bench_echo` (an echo step with no prompt): the call's RTP goes to the
probe, which sends a packet back to the call's port and checks that it comes back echoed.

Per rate and server: calls/s achieved, success %, server CPU % (utime+stime from /proc), CPU
ms per call, SIPp's own CPU %, and the failure codes seen. For atende also "no record lost"
(docs/security.md): after the step (server stopped, store drained) the store's answered calls
that SIPp ended (`remote_bye`) equal SIPp's successful calls, no call is left open,
`atende_store_dropped_writes_total` is 0, and every answered call's RTP port echoed the
probe's packet; plus the store's commit delay (the durability window: accepted -> committed,
per batch, from atende_store_commit_delay_seconds), its deepest queue (sampled) and its 503s.
A server's ramp stops at its first step under 99.99 % success. Result: the highest rate each
sustains, and atende/bare.

Usage: bench/call_rate.py [--build-dir DIR] [--rates 500,1000,...,5000] [--seconds 10]
                          [--hold-ms 200] [--results-dir DIR]
Results: bench/results/call_rate.{json,md}. Each step is bounded (seconds + 40 s).
"""
import argparse
import collections
import json
import os
import pathlib
import re
import resource
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time

import bench_common as bc
from harness import http_api, procs
from harness.ports import free_port
from harness.sipp import Sipp

SUCCESS_PCT = 99.99
RTP_PORTS = (10000, 19999)  # atende's media ports: wide, clear of the ephemeral range
SCENARIO = str(bc.BENCH_DIR / "sipp" / "uac_call_probe")  # Sipp adds .xml
FLOW = """name: bench_echo
start: echo
steps:
  echo:
    type: echo
    max_duration: 60s
    next: bye
  bye:
    type: hangup
"""


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


class Probe:
    """bench/loadgen_rtp_probe on a free port, for the step's length."""

    def __init__(self, binary):
        self.port = free_port()
        self.proc = subprocess.Popen([str(binary), "--port", str(self.port)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if '"ready"' not in line:
            raise RuntimeError(f"rtp probe did not start: {line} {self.proc.stderr.read()}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=10)
        lines = [l for l in out.splitlines() if l.startswith("{")]
        return json.loads(lines[-1]) if lines else {"error": err[-500:]}


class MetricsSampler:
    """Polls /metrics every 0.25 s: the deepest store queue seen during the step."""

    def __init__(self, server):
        self.server, self.max_depth, self._stop = server, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.wait(0.25):
            try:
                text = http_api.get_text(self.server.http_base + "/metrics", timeout=2)
            except (OSError, AssertionError):
                continue
            depth = http_api.metric_value(text, "atende_store_queue_depth") or 0
            self.max_depth = max(self.max_depth, int(depth))

    def stop(self):
        self._stop.set()
        self.thread.join(5)
        return self.max_depth


def histogram_bounds(text, name):
    """(count, p50 bound, p99 bound, max bound) of a Prometheus histogram, in its units:
    each the upper bound of the first bucket holding that share of the observations."""
    buckets = []
    for le, value in re.findall(rf'^{name}_bucket{{le="([^"]+)"}} (\S+)$', text, re.M):
        buckets.append((float("inf") if le == "+Inf" else float(le), float(value)))
    count = buckets[-1][1] if buckets else 0
    if not count:
        return 0, None, None, None

    def bound(share):
        return next(le for le, c in buckets if c >= share * count)
    return int(count), bound(0.5), bound(0.99), bound(1.0)


def store_check(server, sipp_ok):
    """The store after the server stopped (its queue drained on SIGTERM)."""
    db = sqlite3.connect(server.data_dir / "atende.db")
    try:
        one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
        rows = one("SELECT COUNT(*) FROM calls")
        answered = one("SELECT COUNT(*) FROM calls WHERE answered_at IS NOT NULL")
        completed = one("SELECT COUNT(*) FROM calls WHERE answered_at IS NOT NULL"
                        " AND end_reason = 'remote_bye'")
        still_open = one("SELECT COUNT(*) FROM calls WHERE ended_at IS NULL")
        reasons = dict(db.execute("SELECT COALESCE(end_reason, 'open'), COUNT(*) FROM calls"
                                  " GROUP BY 1 ORDER BY 2 DESC LIMIT 6").fetchall())
        ended = one("SELECT COUNT(*) FROM calls WHERE answered_at IS NOT NULL"
                    " AND ended_at IS NOT NULL")
    finally:
        db.close()
    return {"rows": rows, "answered": answered, "answered_ended": ended,
            "completed": completed, "still_open": still_open, "end_reasons": reasons,
            "completed_equals_sipp_ok": completed == sipp_ok,
            # Under overload a call SIPp failed may still have been answered (a lost ACK:
            # `no_ack`), so the store may hold more answered calls than SIPp completed,
            # never fewer.
            "every_sipp_call_stored": ended >= sipp_ok}


def run_step(kind, binary, rate, seconds, workdir, hold_ms, probe_bin, flows_dir):
    atende = kind == "atende"
    extra = ["--log-level", "warn", "--flows-dir", str(flows_dir)] if atende else []
    server = bc.Server(kind, binary, workdir, extra_args=extra,
                       max_calls=100000 if atende else None)
    if atende:
        server.rtp_range = RTP_PORTS
    server.start()
    probe = Probe(probe_bin) if atende else None
    sampler = MetricsSampler(server) if atende else None
    step, result, metrics_text = {}, None, ""
    try:
        calls = int(rate * seconds)
        cpu0, t0, sipp_cpu0 = procs.cpu_seconds(server.pid()), time.monotonic(), children_cpu_s()
        sipp = Sipp(SCENARIO, server.sip_target, workdir,
                    service="bench_echo" if atende else "echo", calls=calls, rate=rate,
                    limit=max(100, rate * 2),
                    duration_ms=hold_ms, timeout_s=seconds + 30, tag=f"{kind}_{rate}",
                    trace_messages=False,
                    substitutions={"PROBE_PORT": probe.port if probe else free_port()},
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
        if atende:
            time.sleep(0.5)  # the last calls' echoes, the last commits
            metrics_text = http_api.get_text(server.http_base + "/metrics")
    finally:
        probe_result = probe.stop() if probe else None
        max_depth = sampler.stop() if sampler else None
        server.stop(timeout=30)
    if atende and result is not None:
        store = store_check(server, result.successful)
        m = lambda name: int(http_api.metric_value(metrics_text, name) or 0)  # noqa: E731
        count, p50, p99, worst = histogram_bounds(metrics_text,
                                                  "atende_store_commit_delay_seconds")
        ms = lambda v: None if v is None else (v * 1000 if v != float("inf") else "inf")  # noqa: E731
        step["records"] = {
            **store,
            "dropped_writes": m("atende_store_dropped_writes_total"),
            "refused_503": m("atende_store_refused_calls_total"),
            "unrecorded_refusals": m("atende_store_unrecorded_refusals_total"),
            "max_queue_depth_sampled": max_depth,
            "commit_batches": count, "commit_delay_ms_p50_bound": ms(p50),
            "commit_delay_ms_p99_bound": ms(p99), "commit_delay_ms_max_bound": ms(worst),
            "rtp_probe": probe_result,
        }
        r = step["records"]
        r["every_call_echoed"] = bool(probe_result) and \
            probe_result.get("echoed") == probe_result.get("calls") == store["answered"]
        r["no_record_lost"] = verdict(r)
    return step


def verdict(records):
    """Every call SIPp completed is in the store, answered and ended (how it ended is what
    atende saw: under overload a lost ACK ends as `no_ack` although SIPp's BYE came), none is
    left open, and no write was dropped."""
    return (records["every_sipp_call_stored"] and records["still_open"] == 0
            and records["dropped_writes"] == 0)


def markdown(results):
    m = results["machine"]
    lines = ["# Call rate: atende vs. bare sofia-sip UAS", "",
             f"{m['when']}, {m['host']}, {m['cpus']} CPUs, kernel {m['kernel']}; "
             f"{results['seconds_per_step']:g} s per step, SIPp uac_call_probe.xml (answer, "
             f"hold {results['hold_ms']} ms, BYE), `-rp 1000`, fresh server per step; atende "
             "runs `bench_echo` (echo, no prompt) and every call's RTP goes to "
             "`loadgen_rtp_probe`. SIPp and the probe run on the same 2 cores.", "",
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
    lines += ["", "No record lost (atende, checked after each step with the server stopped):", "",
              "| target/s | SIPp ok | store: answered + remote_bye | store: answered + ended "
              "| left open | dropped writes | 503 (store behind) | RTP echoed / answered "
              "| commit delay p50 / p99 / max (ms, bucket bound) | deepest queue "
              "| records | media |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for step in results["steps"]:
        s = step.get("atende")
        if not s or "records" not in s:
            continue
        r = s["records"]
        p = r.get("rtp_probe") or {}
        lines.append(
            f"| {s['target_rate']} | {s['successful']} | {r['completed']} | "
            f"{r['answered_ended']} | {r['still_open']} | "
            f"{r['dropped_writes']} | {r['refused_503']} | {p.get('echoed')} / {r['answered']} | "
            f"{r['commit_delay_ms_p50_bound']} / {r['commit_delay_ms_p99_bound']} / "
            f"{r['commit_delay_ms_max_bound']} | {r['max_queue_depth_sampled']} | "
            f"{'none lost' if r['no_record_lost'] else '**LOST**'} | "
            f"{'all echoed' if r['every_call_echoed'] else 'not all echoed'} |")
    lines += ["", "| target/s | CPU ms/call ratio atende/bare |", "|---|---|"]
    for step in results["steps"]:
        if "cpu_ratio" in step:
            lines.append(f"| {step['target_rate']} | {step['cpu_ratio']} |")
    s = results["summary"]
    lines += ["", f"Highest achieved rate with >= {SUCCESS_PCT} % success: bare **{s['bare_max_cps']}**"
              f"/s, atende **{s['atende_max_cps']}**/s; ratio atende/bare **{s['ratio']}** "
              "(target: >= 0.5 and atende >= 1000/s). No record lost in every atende step: "
              f"**{'yes' if s['no_record_lost'] else 'NO'}**; every call's RTP echoed in every "
              f"step atende held: **{'yes' if s['echoed_where_held'] else 'NO'}**.",
              "Records: the store's calls answered and ended are at least SIPp's successful "
              "ones (equal when every call succeeded; a call SIPp failed may still have been "
              "answered), none is left open, no write dropped. *answered + remote_bye* is "
              "lower when atende lost ACKs under overload: those calls end `no_ack` although "
              "SIPp's BYE came (their record is there, with atende's view of the end).",
              "A step counts when its success is >= 99.99 %; its achieved rate (not the target) "
              "is the server's. When no step failed the max is a floor (the ramp ran out).",
              "CPU ratios are listed only for rates both servers held. atende's CPU includes "
              "the media of every call (its RTP leg and echo for the hold time, the probe's "
              "packets); the bare UAS sends no RTP."]
    if results.get("note"):
        lines += ["", results["note"]]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir")
    ap.add_argument("--rates", default="500,1000,1500,2000,3000,4000,5000")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--hold-ms", type=int, default=200,
                    help="how long each call stays up (its RTP is echoed meanwhile)")
    ap.add_argument("--note", default="", help="a line for the results (e.g. why the run is short)")
    bc.add_results_dir_arg(ap)
    args = ap.parse_args()
    build = bc.find_build_dir(args.build_dir)
    atende = build / "atende"
    probe_bin = build / "bench" / "loadgen_rtp_probe"
    if not bc.atende_usable(atende):
        raise SystemExit(f"{atende} cannot `serve`")
    if not os.access(probe_bin, os.X_OK):
        raise SystemExit(f"{probe_bin} is missing: build the target loadgen_rtp_probe")
    servers = {"bare": ("baseline", build / "bench" / "baseline_sofia_uas"),
               "atende": ("atende", atende)}
    results = {"machine": bc.machine(), "seconds_per_step": args.seconds,
               "hold_ms": args.hold_ms, "note": args.note, "steps": []}
    best = {"bare": 0, "atende": 0}
    stopped = set()
    with tempfile.TemporaryDirectory() as tmp:
        flows = pathlib.Path(tmp) / "flows"
        flows.mkdir()
        (flows / "bench_echo.yaml").write_text(FLOW)
        for rate in (int(r) for r in args.rates.split(",")):
            step = {"target_rate": rate}
            for label, (kind, binary) in servers.items():
                if label in stopped:
                    continue
                step[label] = run_step(kind, binary, rate, args.seconds,
                                       pathlib.Path(tmp) / f"{label}_{rate}", args.hold_ms,
                                       probe_bin, flows)
                print(label, json.dumps(step[label]), flush=True)
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
            bc.write_results("call_rate", results, markdown(results), quiet=True,
                             out=args.results_dir)
            if len(stopped) == len(servers):
                break
    bc.write_results("call_rate", results, markdown(results), out=args.results_dir)


def summarise(results, best, servers, stopped):
    steps = [s["atende"] for s in results["steps"] if "records" in s.get("atende", {})]
    results["summary"] = {
        "bare_max_cps": best["bare"], "atende_max_cps": best["atende"],
        "ratio": round(best["atende"] / best["bare"], 2) if best["bare"] else None,
        "ramp_exhausted": sorted(set(servers) - stopped),
        "no_record_lost": bool(steps) and all(s["records"]["no_record_lost"] for s in steps),
        "echoed_where_held": bool(steps) and all(
            s["records"]["every_call_echoed"] for s in steps if s["success_pct"] >= SUCCESS_PCT)}


if __name__ == "__main__":
    main()
