#!/usr/bin/python3
"""Concurrent sessions per transport, in ONE run: at each count N, N SIP/RTP calls, N
AudioSocket sessions and N ASP sessions (each on a fresh atende, one after the other), every
one of them on the same listening flow (bench_common.LISTEN_FLOW: a menu with spoken
choices, WebRTC VAD and end of turn on every frame; --flow bench_listen_long: the same menu
with a prompt longer than the run, so that ASP, which sends audio only while it responds,
sends all the time as the others do), and atende's CPU per session for each transport, their
ratio to SIP, its send pacing on each leg, and the time each leg kind takes from a frame
received to the frame handed to the flow (atende_media_frame_to_flow_seconds{leg}).

Transports (--transports, in this order per N):
  sip          bench/loadgen_echo: raw SIP UAC (INVITE/ACK/BYE), one RTP stream per call,
               20 ms PCMU each way (as bench/echo_load.py)
  audiosocket  bench/loadgen_audiosocket: TCP connections behaving as Asterisk's
               AudioSocket() (UUID, a 320-byte slin frame every 20 ms, 0x00 at the end)
               to an atende listener `--audiosocket-listen HOST:PORT=FLOW`
  asp          bench/loadgen_asp: WebSockets to atende's /asp?to=FLOW behaving as a media
               server (session.start, a 320-byte binary frame every 20 ms, session.end at the
               end); atende's audio comes only while it responds, and is timed within responses
The generators are one epoll thread in C++ sending from absolute CLOCK_MONOTONIC deadlines,
reading with kernel receive timestamps. Both send quiet noise (about -65 dBFS): the VAD
works on real samples, no turn starts, no recognition runs.

Adding a transport is one more entry in TRANSPORTS: a function (binary, build, n, args,
workdir) -> the common result dict (see run_sip), i.e. a generator for it and the server
flag that makes a listener of that kind run the flow. The stream generators share their
engine (bench/loadgen_stream.h).

Usage: bench/audiosocket_load.py [--build-dir DIR] [--sessions 250,500,1000,1500]
                                 [--seconds 10] [--warmup 3] [--flow bench_listen]
                                 [--transports sip,audiosocket,asp] [--keep-going]
                                 [--results-dir DIR] [--name audiosocket_load]
Results: bench/results/audiosocket_load.{json,md}. Every process is bounded by a timeout.
"""
import argparse
import json
import os
import pathlib
import subprocess
import tempfile
import threading
import time

import bench_common as bc
from harness.ports import free_port

JITTER_LIMIT_MS = 2.0
LATE_LIMIT_MS = 2.0
MIN_FRAMES_PER_S = 49.5  # of 50: a session that got fewer was starved
RTP_PORTS = (10000, 19999)  # below the ephemeral range, where the generators bind


def realtime_prefix():
    """SCHED_FIFO for the generators when allowed (as echo_load.py: their own wake-ups must
    not be delayed by other work, or their lateness would read as the server's jitter)."""
    try:
        ok = subprocess.run(["chrt", "-f", "10", "true"], capture_output=True, timeout=5)
        return ["chrt", "-f", "10"] if ok.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired):
        return []


GENERATOR_PREFIX = realtime_prefix()


def run_json(cmd, bound):
    out = subprocess.run([*GENERATOR_PREFIX, *cmd], capture_output=True, text=True, timeout=bound)
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise RuntimeError(f"{cmd[0]} failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(lines[-1])


def perf_later(pid, delay, seconds, data, out_txt):
    """perf record (samples, no call graphs: the build has no frame pointers) of `pid` from
    `delay` s on for `seconds`, then its report by thread and by symbol into out_txt."""
    def run():
        time.sleep(delay)
        subprocess.run(["perf", "record", "-o", str(data), "-p", str(pid), "--", "sleep",
                        str(seconds)], capture_output=True, timeout=seconds + 60)
        parts = []
        for sort in ("comm", "dso", "dso,symbol"):
            r = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--sort", sort,
                                "--percent-limit", "0.5"], capture_output=True, text=True,
                               timeout=300)
            parts.append(f"## perf report --sort {sort}\n\n" + r.stdout[:100000])
        out_txt.write_text("\n".join(parts))
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def start_server(binary, n, workdir, flows, extra=()):
    server = bc.Server("atende", binary, workdir, max_calls=n + 100,
                       extra_args=["--log-level", "warn", "--flows-dir", str(flows), *extra])
    server.rtp_range = RTP_PORTS
    server.start()
    return server


def leg_latency(server, leg):
    """atende_media_frame_to_flow_seconds{leg} over the whole run (set-up included), and
    the p99 of atende_media_tick_lateness_seconds (its media workers' wake-up lateness)."""
    text = bc.scrape(server)
    out = bc.latency_summary(bc.histogram(text, "atende_media_frame_to_flow_seconds",
                                          {"leg": leg})) or {}
    late = bc.latency_summary(bc.histogram(text, "atende_media_tick_lateness_seconds"))
    if late:
        out["tick_late_p99_ms"] = late["p99_ms"]
    return out


def common(r, n, leg_latency_summary):
    """The fields every transport reports, named alike."""
    up = r.get("established", 0)
    cpu = r.get("server_cpu_pct")
    out = {"sessions": n, "established": up, "server_cpu_pct": cpu,
           "cpu_pct_per_100_sessions": round(100 * cpu / up, 2) if cpu is not None and up else None,
           "jitter_p50_ms": r.get("jitter_p50_ms"), "jitter_p99_ms": r.get("jitter_p99_ms"),
           "jitter_max_ms": r.get("jitter_max_ms"), "send_late_p99_ms": r.get("send_late_p99_ms"),
           "loadgen_cpu_pct": r.get("loadgen_cpu_pct"), "host_busy_pct": r.get("host_busy_pct"),
           "loadavg_1m_after": round(os.getloadavg()[0], 2)}
    late = leg_latency_summary.pop("tick_late_p99_ms", None)
    if leg_latency_summary:
        out.update({f"frame_to_flow_{k}": v for k, v in leg_latency_summary.items()})
    out["tick_late_p99_ms"] = late
    return out


def maybe_perf(args, server, n, setup_rate, workdir, transport):
    """With args.perf_out set: perf on this run's server during its window."""
    if not getattr(args, "perf_out", None):
        return None
    delay = n / setup_rate + 1 + args.warmup + 1.5
    return perf_later(server.pid(), delay, max(2, args.seconds - 3), workdir / "perf.data",
                      args.perf_out / f"{args.name}_perf_{transport}_{n}.txt")


def run_sip(binary, build, n, args, workdir, flows):
    server = start_server(binary, n, workdir, flows)
    perf = maybe_perf(args, server, n, 400, workdir, "sip")
    try:
        r = run_json([str(build / "bench" / "loadgen_echo"), "--sip", server.sip_target,
                      "--service", args.flow, "--calls", str(n), "--seconds", str(args.seconds),
                      "--warmup", str(args.warmup), "--server-pid", str(server.pid()),
                      "--payload", "quiet"],
                     args.seconds + args.warmup + 60 + n / 100)
        out = common(r, n, leg_latency(server, "rtp"))
        received, lost = r["packets_received"], r["seq_lost"]
        out.update({"loss_pct": round(100.0 * lost / (received + lost), 3) if received + lost else None,
                    "frames_per_s_per_session": round(received / args.seconds / max(1, r["established"]), 2),
                    "cut": r.get("failed", 0), "rss_kb_per_session": r.get("rss_kb_per_idle_call"),
                    "server_cpu_us_per_frame": r.get("server_cpu_us_per_packet"),
                    "generator": "loadgen_echo", "raw": r})
        if r["established"] < n:
            out["server_log_tail"] = server.log_tail(20)
        return out
    finally:
        if perf:
            perf.join(timeout=400)
        server.stop(timeout=30)


def run_stream(build, server, perf, n, args, kind, target):
    """loadgen_<kind> (`target`: its flags naming atende) against `server`: the fields every
    transport reports (common) plus the stream transports' own. Stops perf and the server."""
    try:
        r = run_json([str(build / "bench" / f"loadgen_{kind}"), *target,
                      "--sessions", str(n), "--seconds", str(args.seconds), "--warmup",
                      str(args.warmup), "--setup-rate", str(args.setup_rate), "--server-pid",
                      str(server.pid()), "--payload", "quiet"],
                     args.seconds + args.warmup + 60 + n / 50)
        out = common(r, n, leg_latency(server, kind))
        out.update({"loss_pct": None,  # TCP: nothing is lost; starvation shows as frames/s
                    "frames_per_s_per_session": r.get("frames_per_s_per_session"),
                    "min_frames_per_s_session": r.get("min_frames_per_s_session"),
                    "cut": r.get("cut", 0) + r.get("failed", 0),
                    "rss_kb_per_session": r.get("rss_kb_per_session"),
                    "server_cpu_us_per_frame": r.get("server_cpu_us_per_frame"),
                    "generator": f"loadgen_{kind}", "raw": r})
        if r["established"] < n or r.get("cut"):
            out["server_log_tail"] = server.log_tail(20)
        return out
    finally:
        if perf:
            perf.join(timeout=400)
        server.stop(timeout=30)


def run_audiosocket(binary, build, n, args, workdir, flows):
    port = free_port()
    server = start_server(binary, n, workdir, flows,
                          ["--audiosocket-listen", f"127.0.0.1:{port}={args.flow}"])
    perf = maybe_perf(args, server, n, args.setup_rate, workdir, "audiosocket")
    return run_stream(build, server, perf, n, args, "audiosocket",
                      ["--target", f"127.0.0.1:{port}"])


def run_asp(binary, build, n, args, workdir, flows):
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "asp.yaml"  # /asp without a token (loopback), room for N sessions
    cfg.write_text(f"asp_require_token: false\nasp_max_sessions: {n + 100}\n"
                   + (f"asp_io_threads: {args.asp_io_threads}\n" if args.asp_io_threads else ""))
    server = start_server(binary, n, workdir, flows, ["--config", str(cfg)])
    perf = maybe_perf(args, server, n, args.setup_rate, workdir, "asp")
    return run_stream(build, server, perf, n, args, "asp",
                      ["--target", f"127.0.0.1:{server.http_port}", "--to", args.flow])


# One entry per transport (a generator for it and the listener that runs args.flow on it;
# the rest of the script is transport-blind).
TRANSPORTS = {"sip": run_sip, "audiosocket": run_audiosocket, "asp": run_asp}
LEG_LABEL = {"sip": "rtp", "audiosocket": "audiosocket", "asp": "asp"}


def misses(r, n):
    why = []
    if r["established"] < n:
        why.append(f"{n - r['established']} not set up")
    if r.get("cut"):
        why.append(f"{r['cut']} cut")
    if (r.get("jitter_p99_ms") or 0) > JITTER_LIMIT_MS:
        why.append(f"jitter p99 {r['jitter_p99_ms']} ms > {JITTER_LIMIT_MS}")
    if (r.get("loss_pct") or 0) > 1.0:
        why.append(f"loss {r['loss_pct']} %")
    fps = r.get("min_frames_per_s_session", r.get("frames_per_s_per_session"))
    if fps is not None and fps < MIN_FRAMES_PER_S:
        why.append(f"frames/s {fps} < {MIN_FRAMES_PER_S}")
    if (r.get("send_late_p99_ms") or 0) > LATE_LIMIT_MS:
        why.append(f"generator late p99 {r['send_late_p99_ms']} ms")
    return why


COLS = [("sessions", "N"), ("established", "up"), ("cut", "cut"),
        ("frames_per_s_per_session", "frames/s/session"), ("loss_pct", "loss %"),
        ("jitter_p50_ms", "jitter p50 ms"), ("jitter_p99_ms", "p99 ms"), ("jitter_max_ms", "max ms"),
        ("server_cpu_pct", "atende CPU %"), ("cpu_pct_per_100_sessions", "CPU % per 100 sessions"),
        ("server_cpu_us_per_frame", "CPU us/frame"), ("frame_to_flow_p50_ms", "frame->flow p50 ms"),
        ("frame_to_flow_p99_ms", "p99 ms"), ("frame_to_flow_mean_ms", "mean ms"),
        ("rss_kb_per_session", "RSS KB/session"), ("send_late_p99_ms", "gen late p99 ms"),
        ("loadgen_cpu_pct", "gen CPU %"), ("tick_late_p99_ms", "tick late p99 ms"),
        ("host_busy_pct", "box busy %"),
        ("loadavg_1m_after", "load 1m")]


def markdown(results):
    m = results["machine"]
    tr = results["transports"]
    lines = [f"# Concurrent sessions per transport, listening flow `{results['flow']}` "
             "(VAD + end of turn on every session)", "",
             f"{m['when']}, {m['host']}, {m['cpus']} CPUs, kernel {m['kernel']}; load average "
             f"at start {results['loadavg_start']} (1/5/15 min: {results['loadavg_start_all']}); "
             f"{results['seconds']:g} s steady window after {results['warmup']:g} s warm-up per "
             f"run; transports {', '.join(tr)}, each N on a fresh atende, one after the other "
             f"(generators' scheduling: {results['generator_sched']}); ASP I/O threads: "
             f"{results.get('asp_io_threads') or 'the default'}.", "",
             "| transport | " + " | ".join(c[1] for c in COLS) + " | verdict |",
             "|---" * (len(COLS) + 2) + "|"]
    for step in results["steps"]:
        for t in tr:
            r = step.get(t)
            if r is None:
                continue
            verdict = "; ".join(r.get("misses", [])) or "ok"
            lines.append(f"| {t} | " + " | ".join("-" if r.get(c[0]) is None else str(r[c[0]])
                                                  for c in COLS) +
                         f" | {verdict} |")
    if "sip" in tr and len(tr) > 1:
        others = [t for t in tr if t != "sip"]
        lines += ["", "| N | " + " | ".join(f"CPU per session {t}/sip" for t in others) +
                  " | frame->flow p50 / p99 ms: " + ", ".join(tr) + " |",
                  "|---" * (len(others) + 2) + "|"]
        for step in results["steps"]:
            lat = ", ".join(f"{step.get(t, {}).get('frame_to_flow_p50_ms', '-')} / "
                            f"{step.get(t, {}).get('frame_to_flow_p99_ms', '-')}" for t in tr)
            lines.append(f"| {step['sessions']} | " +
                         " | ".join(f"**{step.get('ratio_' + t, 'n/a')}**" for t in others) +
                         f" | {lat} |")
    lines += [""]
    for t in tr:
        lines.append(f"Highest N with every {t} session up, none cut, >= {MIN_FRAMES_PER_S} "
                     f"frames/s each, jitter p99 <= {JITTER_LIMIT_MS} ms and the generator on "
                     f"pace: **{results['summary'].get('max_ok_' + t)}** (target >= 1000).")
    for t, pr in results.get("perf_runs", {}).items():
        lines.append(f"perf: one more {t} run at N = {pr['sessions']} under `perf record` (not in "
                     f"the table; atende {pr['server_cpu_pct']} % CPU then): `{pr['report']}`.")
    lines += ["",
              "CPU = atende's utime+stime (all threads, /proc/PID/stat) over the generator's "
              "steady window; 100 % = one core. CPU % per 100 sessions = that / sessions up x "
              "100; a ratio divides a transport's figure by the SIP one at the same N. CPU "
              "us/frame = CPU / (frames to atende + frames from it). jitter = atende's send "
              "pacing: for SIP |gap between consecutive RTP packets of a call - 20 ms x "
              "sequence step|; for AudioSocket and ASP |gap between consecutive frames of a session - "
              "20 ms| (no sequence numbers: a skipped frame counts 20 ms; ASP: within a "
              "response, as atende sends nothing between responses), all from kernel "
              "receive timestamps at the generator. frames/s/session: what atende sent per "
              "session per second of the window (50 expected). cut: SIP calls that failed or "
              "AudioSocket/ASP sessions atende closed before the generator's hang-up. frame->flow = "
              "atende_media_frame_to_flow_seconds{leg} over the whole run: from when a frame's "
              "data reached the host (kernel receive timestamp; TCP: the newest segment of the "
              "read that brought it) to the frame handed to the flow; for RTP that is the "
              "socket wait until the leg's tick + the jitter buffer (60 ms target) + decode; for "
              "AudioSocket the socket wait until the leg's tick + its inbound queue (no jitter "
              "buffer: TCP delivers in order); for ASP from the I/O thread's read of the "
              "WebSocket message (no kernel timestamp) + the leg's queue and 60 ms prebuffer. "
              "p50/p99 interpolated in the buckets as "
              "Prometheus' histogram_quantile does (bounds 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, "
              "25, 30, 40, 50, 60, 70, 80, 100 ms...). tick late = "
              "atende_media_tick_lateness_seconds p99 over the run: how late atende's media "
              "workers woke for their slots. box busy = the whole machine's CPU "
              "(/proc/stat, both cores, every process) over the window. RSS/session = atende's "
              "RSS growth from before the first session to all of them up, / N.", "",
              f"The flow, `{results['flow']}`:", "", "```yaml", results["flow_yaml"].rstrip(), "```"]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir")
    ap.add_argument("--sessions", default="250,500,1000,1500")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--setup-rate", type=float, default=300,
                    help="AudioSocket connections opened per second")
    ap.add_argument("--flow", default=bc.LISTEN_FLOW_NAME)
    ap.add_argument("--transports", default="sip,audiosocket")
    ap.add_argument("--keep-going", action="store_true",
                    help="run every N even after a transport missed")
    ap.add_argument("--name", default="audiosocket_load")
    ap.add_argument("--asp-io-threads", type=int, default=0,
                    help="asp_io_threads for the ASP runs (0: atende's default)")
    ap.add_argument("--perf-at", type=int,
                    help="after the ramp, one more run per transport at this N under perf "
                         "record (not in the table: perf costs CPU); reports go to "
                         "<results>/<name>_perf_<transport>_<N>.txt")
    bc.add_results_dir_arg(ap)
    args = ap.parse_args()
    transports = args.transports.split(",")
    for t in transports:
        if t not in TRANSPORTS:
            raise SystemExit(f"unknown transport {t} (have {', '.join(TRANSPORTS)})")
    build = bc.find_build_dir(args.build_dir)
    atende = build / "atende"
    if not bc.atende_usable(atende):
        raise SystemExit(f"{atende} cannot `serve`")
    load = os.getloadavg()
    results = {"machine": bc.machine(), "seconds": args.seconds, "warmup": args.warmup,
               "flow": args.flow, "transports": transports,
               "loadavg_start": round(load[0], 2),
               "loadavg_start_all": " / ".join(f"{x:.2f}" for x in load),
               "generator_sched": " ".join(GENERATOR_PREFIX) or "normal",
               "asp_io_threads": args.asp_io_threads,
               "flow_yaml": bc.FLOWS.get(args.flow) or
               (bc.SOURCE_DIR / "flows" / f"{args.flow}.yaml").read_text(),
               "steps": [], "summary": {}}
    stopped = set()
    with tempfile.TemporaryDirectory() as tmp:
        flows = bc.write_flows_dir(pathlib.Path(tmp) / "flows")
        for n in (int(x) for x in args.sessions.split(",")):
            step = {"sessions": n}
            for t in transports:
                if t in stopped:
                    continue
                r = TRANSPORTS[t](atende, build, n, args, pathlib.Path(tmp) / f"{t}_{n}", flows)
                r["misses"] = misses(r, n)
                print(t, n, {k: v for k, v in r.items() if k != "raw"}, flush=True)
                step[t] = r
                if not r["misses"] and results["summary"].get("failed_" + t) is None:
                    results["summary"]["max_ok_" + t] = n
                elif r["misses"]:
                    results["summary"].setdefault("failed_" + t, n)
                    if not args.keep_going or r["established"] < n / 2:
                        stopped.add(t)
            base = step.get("sip", {}).get("cpu_pct_per_100_sessions")
            for t in transports:
                other = step.get(t, {}).get("cpu_pct_per_100_sessions")
                if t != "sip" and base and other:
                    step["ratio_" + t] = round(other / base, 2)
            results["steps"].append(step)
            bc.write_results(args.name, results, markdown(results), quiet=True,
                             out=args.results_dir)
            if len(stopped) == len(transports):
                break
        if args.perf_at:
            args.perf_out = args.results_dir
            for t in transports:
                r = TRANSPORTS[t](atende, build, args.perf_at, args,
                                  pathlib.Path(tmp) / f"perf_{t}", flows)
                results.setdefault("perf_runs", {})[t] = {
                    k: r.get(k) for k in ("sessions", "established", "server_cpu_pct",
                                          "cpu_pct_per_100_sessions", "jitter_p99_ms")}
                results["perf_runs"][t]["report"] = f"{args.name}_perf_{t}_{args.perf_at}.txt"
                print("perf", t, results["perf_runs"][t], flush=True)
    bc.write_results(args.name, results, markdown(results), out=args.results_dir)


if __name__ == "__main__":
    main()
