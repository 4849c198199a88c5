#!/usr/bin/python3
"""Echo load: M concurrent RTP echo streams (20 ms PCMU packets) driven by the C++ generator
bench/loadgen_echo (one epoll thread, absolute CLOCK_MONOTONIC deadlines, kernel receive
timestamps), against atende's `echo` flow (M real SIP calls) and against
bench/baseline_udp_echo (a bare epoll reflector) at the same packet rate, ramping M.

Per step and server: packets sent/received in the steady window, the server's send-pacing
jitter (p50/p99/max of |inter-arrival gap - 20 ms| over all streams), loss, server CPU % and
CPU us per packet handled (packets in + out), the generator's own send lateness and CPU, and
for atende the RSS per idle call ((RSS with M calls set up - RSS before) / M).
The ramp stops after the first step where atende misses: p99 > 2 ms, loss > 1 %, calls not
set up, or the generator itself cannot keep pace (its send lateness p99 > 2 ms).

With --flow NAME (e.g. `--flow bench_listen`, the listening flow of bench_common.py: a menu
with spoken choices, WebRTC VAD and end of turn on every frame of every call) each step also
runs the same M calls against that flow, on a fresh server, right after the echo flow: the
ratios listen/echo of CPU per packet, jitter and latency are the cost of listening. The
callers then send quiet noise (--payload quiet, about -65 dBFS: the VAD works on real
samples, no turn starts) to both flows. atende's atende_media_frame_to_flow_seconds{leg="rtp"}
(a packet's kernel receive time to its frame handed to the flow) is reported per step.

Usage: bench/echo_load.py [--build-dir DIR] [--calls 100,250,500] [--seconds 8] [--warmup 2]
                          [--keep-going] [--results-dir DIR]
                          [--flow bench_listen [--name echo_load_vad]] [--payload tone|quiet]
Results: bench/results/echo_load.{json,md} (with --flow: echo_load_vad.{json,md}; or in
--results-dir). Every process is bounded by a timeout.
"""
import argparse
import json
import os
import pathlib
import socket
import subprocess
import tempfile

import bench_common as bc
from harness import http_api

JITTER_LIMIT_MS = 2.0
LOSS_LIMIT_PCT = 1.0
LATE_LIMIT_MS = 2.0
RTP_PORTS = (10000, 19999)  # below the kernel's ephemeral range, where loadgen binds


def udp_range_free(lo, count):
    for port in range(lo, lo + count):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def realtime_prefix():
    """SCHED_FIFO for the generator when allowed: on a shared 2-core machine its own wakeups
    must not be delayed by other work (compilers, the server), or its lateness would be
    measured as the server's jitter. The servers keep normal scheduling."""
    try:
        ok = subprocess.run(["chrt", "-f", "10", "true"], capture_output=True, timeout=5)
        return ["chrt", "-f", "10"] if ok.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired):
        return []


GENERATOR_PREFIX = realtime_prefix()


def run_loadgen(loadgen, target_args, calls, seconds, warmup, pid, payload="tone"):
    cmd = [*GENERATOR_PREFIX, str(loadgen), *target_args, "--calls", str(calls), "--seconds", str(seconds),
           "--warmup", str(warmup), "--server-pid", str(pid), "--payload", payload]
    bound = seconds + warmup + 60 + calls / 100  # setup at 400/s, settle, BYEs, margins
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=bound)
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise RuntimeError(f"loadgen failed ({out.returncode}): {out.stderr[-2000:]}")
    result = json.loads(lines[-1])
    result["loadavg_1m_after"] = round(os.getloadavg()[0], 2)  # how busy the shared machine was
    received, lost = result["packets_received"], result["seq_lost"]
    # Loss of the server's own stream (gaps in its RTP sequence numbers).
    result["loss_pct"] = round(100.0 * lost / (received + lost), 3) if received + lost else None
    # Returned / sent in the window: below 100 % with no sequence gaps means packets were
    # late (queued or stalled past the window), not lost.
    sent = result["packets_sent"]
    result["back_pct"] = round(100.0 * received / sent, 1) if sent else None
    return result


def bench_reflector(build, loadgen, calls, seconds, warmup, payload="tone"):
    lo = next((p for p in range(RTP_PORTS[0], RTP_PORTS[1] - calls, 1000)
               if udp_range_free(p, calls)), None)
    if lo is None:
        raise RuntimeError("no free port range for the reflector")
    proc = subprocess.Popen([str(build / "bench" / "baseline_udp_echo"), "--ports",
                             f"{lo}-{lo + calls - 1}"], stdout=subprocess.PIPE, text=True)
    try:
        if not proc.stdout.readline().startswith("ready"):
            raise RuntimeError("baseline_udp_echo did not start")
        return run_loadgen(loadgen, ["--reflector", f"127.0.0.1:{lo}-{lo + calls - 1}"],
                           calls, seconds, warmup, proc.pid, payload)
    finally:
        proc.terminate()
        proc.wait(10)


def bench_atende(binary, loadgen, calls, seconds, warmup, workdir, loadgen_args=(),
                 server_args=(), service="echo", payload="tone"):
    server = bc.Server("atende", binary, workdir, max_calls=calls + 100,
                       extra_args=["--log-level", "warn", *server_args])
    server.rtp_range = RTP_PORTS  # wide, and clear of the generator's ephemeral ports
    server.start()
    try:
        result = run_loadgen(loadgen, ["--sip", server.sip_target, "--service", service,
                                       *loadgen_args], calls, seconds, warmup, server.pid(),
                             payload)
        result.update(read_wait(server))
        result["flow"] = service
        if result["established"] < calls:
            result["server_log_tail"] = server.log_tail(20)
    finally:
        server.stop(timeout=30)
    if service != "echo":
        # Turns that ended (bench_turns keeps each as a clip: a `captured` event).
        try:
            result["turns_captured"], result["calls_with_turns"] = bc.count_events(server,
                                                                                  "captured")
        except Exception as e:  # noqa: BLE001 - a report, not a check
            result["turns_captured"] = f"unreadable: {e}"
    return result


def read_wait(server):
    """atende's atende_rtp_read_wait_seconds over the whole step (set-up and warm-up too):
    how long packets waited in their sockets before a tick read them."""
    try:
        _, body = http_api.get(server.http_base + "/metrics", timeout=5)
    except OSError:
        return {}
    buckets, total, count, moves = {}, 0.0, 0, None
    for line in body.decode().splitlines():
        if line.startswith("atende_media_phase_moves_total"):
            moves = int(float(line.split()[-1]))
        if line.startswith("atende_rtp_read_wait_seconds_bucket"):
            buckets[line.split('"')[1]] = int(line.split()[-1])
        elif line.startswith("atende_rtp_read_wait_seconds_sum"):
            total = float(line.split()[-1])
        elif line.startswith("atende_rtp_read_wait_seconds_count"):
            count = int(line.split()[-1])
    if not count:
        return {}
    out = {"read_wait_mean_ms": round(1000 * total / count, 2),
           "read_wait_le_2ms_pct": round(100 * buckets.get("0.002", 0) / count, 1),
           "phase_moves": moves}
    # Kernel receive time of a packet -> its frame handed to the flow (socket wait, jitter
    # buffer, decode), whole step.
    f2f = bc.latency_summary(bc.histogram(body.decode(), "atende_media_frame_to_flow_seconds",
                                          {"leg": "rtp"}))
    if f2f:
        out.update({"frame_to_flow_p50_ms": f2f["p50_ms"], "frame_to_flow_p99_ms": f2f["p99_ms"],
                    "frame_to_flow_mean_ms": f2f["mean_ms"]})
    # How late the media workers woke for their 1 ms slots: atende's own saturation (a box
    # that is busy with others shows here too, and in box busy %).
    late = bc.latency_summary(bc.histogram(body.decode(), "atende_media_tick_lateness_seconds"))
    if late:
        out["tick_late_p99_ms"] = late["p99_ms"]
    return out


def misses(r, calls):
    why = []
    if r["established"] < calls:
        why.append(f"{calls - r['established']} calls not set up {r['fail_codes'][:5]}")
    if r["jitter_p99_ms"] > JITTER_LIMIT_MS:
        why.append(f"jitter p99 {r['jitter_p99_ms']} ms > {JITTER_LIMIT_MS}")
    if (r["loss_pct"] or 0) > LOSS_LIMIT_PCT:
        why.append(f"loss {r['loss_pct']} % > {LOSS_LIMIT_PCT}")
    if r["send_late_p99_ms"] > LATE_LIMIT_MS:
        why.append(f"generator late: send lateness p99 {r['send_late_p99_ms']} ms")
    return why


COLS = [("calls", "M"), ("packets_sent", "sent"), ("packets_received", "received"),
        ("back_pct", "back/sent %"), ("loss_pct", "loss %"), ("jitter_p50_ms", "jitter p50 ms"),
        ("jitter_p99_ms", "p99 ms"), ("jitter_max_ms", "max ms"),
        ("server_cpu_pct", "server CPU %"), ("server_cpu_us_per_packet", "CPU us/pkt"),
        ("send_late_p99_ms", "gen late p99 ms"), ("loadgen_cpu_pct", "gen CPU %"),
        ("rss_kb_per_idle_call", "RSS KB/call"), ("read_wait_mean_ms", "read wait ms"),
        ("read_wait_le_2ms_pct", "read <= 2 ms %"), ("phase_moves", "phase moves"),
        ("frame_to_flow_p50_ms", "frame->flow p50 ms"), ("frame_to_flow_p99_ms", "p99 ms"),
        ("tick_late_p99_ms", "tick late p99 ms"), ("turns_captured", "turns ended"),
        ("host_busy_pct", "box busy %"),
        ("loadavg_1m_after", "load 1m")]
LABELS = ("bare", "atende", "listen")  # rows of a step: reflector, echo flow, --flow


def first_miss(results, label):
    """(M, why, box busy %) of the first step where `label` missed, or None."""
    for step in results["steps"]:
        r = step.get(label)
        if r and r.get("misses"):
            return step["calls"], "; ".join(r["misses"]), r.get("host_busy_pct")
    return None


def markdown(results):
    m = results["machine"]
    flow = results.get("flow", "echo")
    listening = flow != "echo"
    title = (f"# Echo load with a listening flow (`{flow}`: VAD + end of turn on every call) vs. "
             "the echo flow vs. a bare UDP reflector" if listening else
             "# Echo load: atende echo flow vs. bare UDP reflector")
    lines = [title, "",
             f"{m['when']}, {m['host']}, {m['cpus']} CPUs, kernel {m['kernel']}; "
             f"load average at start {results.get('loadavg_start', '?')}; "
             f"{results['seconds']:g} s steady window after {results['warmup']:g} s warm-up, "
             "50 packets/s per stream each way, generator bench/loadgen_echo "
             f"(scheduling: {results['generator_sched']}; payload: {results.get('payload', 'tone')}).",
             "", "| server | " + " | ".join(c[1] for c in COLS) + " | verdict |",
             "|---" * (len(COLS) + 2) + "|"]
    names = {"bare": "bare", "atende": "atende echo" if listening else "atende",
             "listen": f"atende {flow}"}
    for step in results["steps"]:
        for label in LABELS:
            r = step.get(label)
            if r is None:
                continue
            verdict = "; ".join(r.get("misses", [])) or "ok"
            lines.append(f"| {names[label]} | " + " | ".join(str(r.get(c[0], "-")) for c in COLS) +
                         f" | {verdict} |")
    if listening:
        lines += ["", "| M | CPU us/pkt echo/bare | listen/bare | **listen/echo** | server CPU % "
                  "echo / listen | jitter p99 ms echo / listen | frame->flow p50 ms echo / listen "
                  "| p99 ms echo / listen |", "|---" * 8 + "|"]
        for step in results["steps"]:
            e, l = step.get("atende", {}), step.get("listen", {})
            lines.append(
                f"| {step['calls']} | {step.get('cpu_ratio', 'n/a')} | "
                f"{step.get('listen_bare_ratio', 'n/a')} | **{step.get('listen_echo_ratio', 'n/a')}** | "
                f"{e.get('server_cpu_pct', '-')} / {l.get('server_cpu_pct', '-')} | "
                f"{e.get('jitter_p99_ms', '-')} / {l.get('jitter_p99_ms', '-')} | "
                f"{e.get('frame_to_flow_p50_ms', '-')} / {l.get('frame_to_flow_p50_ms', '-')} | "
                f"{e.get('frame_to_flow_p99_ms', '-')} / {l.get('frame_to_flow_p99_ms', '-')} |")
    else:
        lines += ["", "| M | CPU us/pkt ratio atende/bare (target <= 1.5) |", "|---|---|"]
        for step in results["steps"]:
            lines.append(f"| {step['calls']} | {step.get('cpu_ratio', 'n/a')} |")
    s = results["summary"]
    lines += ["", f"Highest M with atende jitter p99 <= {JITTER_LIMIT_MS} ms, loss <= "
              f"{LOSS_LIMIT_PCT} % and the generator on pace: **{s['max_ok_calls']}**"
              + (f" (echo flow); **{s.get('max_ok_listen')}** ({flow})" if listening else "")
              + " (target >= 1000).",
              f"RSS per idle call at the largest M set up: **{s['rss_kb_per_idle_call']} KB** "
              "(target <= 256 KB)."]
    for label in (LABELS if listening else ("bare", "atende")):
        miss = first_miss(results, label)
        if miss:
            lines.append(f"First miss of {names[label]}: M = {miss[0]} ({miss[1]}; box busy "
                         f"{miss[2]} % of its {m['cpus']} CPUs).")
    lines += ["",
              "jitter = |gap between consecutive packets of one stream - 20 ms x sequence "
              "step|, from kernel receive timestamps, all streams pooled. For the bare "
              "reflector it is the generator's own send jitter plus loopback (the floor); "
              "for atende it is atende's send pacing. CPU us/pkt = server CPU (utime+stime "
              "from /proc) over the window / (packets to it + packets from it). gen late = "
              "how late the generator's sendto ran after its deadline. back/sent < 100 % with "
              "0 loss: packets came late (server stalled or queues), not lost. Jitter bins stop "
              "at 100 ms (p99 = 100.001 means beyond). read wait = atende's "
              "atende_rtp_read_wait_seconds over the step (set-up and warm-up included): "
              "kernel receive timestamp to the tick's read, mean, and the share within 2 ms; "
              "phase moves = atende_media_phase_moves_total (legs moved to read just after "
              "their packets arrive). frame->flow = atende_media_frame_to_flow_seconds{leg=\"rtp\"} "
              "over the step: a packet's kernel receive time to its decoded frame handed to the "
              "flow (socket wait + the jitter buffer's 60 ms target + decode), p50/p99 "
              "interpolated in its buckets as Prometheus' histogram_quantile does. tick late = "
              "atende_media_tick_lateness_seconds p99 over the step: how late its media workers "
              "woke for their slots (atende or the box saturated). box busy = "
              "the whole machine's CPU (/proc/stat, all cores, every process) over the window."]
    if listening and flow == bc.TURNS_FLOW_NAME:
        lines += ["", f"`{flow}` (bench/bench_common.py): a `capture` step that loops on itself "
                  "(600 s timeout): WebRTC VAD and the end-of-turn detector on every frame; each "
                  "utterance ends a turn (600 ms of silence), is kept as a clip (no recognition), "
                  "recorded as a `captured` event (*turns ended*, read from the store after the "
                  "step), and the step starts again with its one-word prompt. The callers "
                  f"(payload {results.get('payload')}) say pocketsphinx's goforward.raw (\"go "
                  "forward ten meters\", ~3 s, averaged down to 8 kHz) every 6 s, each call at its "
                  "own offset, quiet noise in between; the echo flow gets the same packets."]
    elif listening:
        lines += ["", f"`{flow}` (bench/bench_common.py): a menu with spoken choices and a 600 s "
                  "wait, so WebRTC VAD and the end-of-turn detector run on every frame of every "
                  "call for the whole step, its prompt included. The callers send quiet noise "
                  "(about -65 dBFS, the same 160 bytes every packet) to both flows: the VAD "
                  "works on real samples and no turn starts (below the turn detector's -50 dBFS "
                  "floor), so no recognition runs: this is the cost of listening, not of "
                  "recognising (results/stt_tts.md). The echo flow returns the noise; the "
                  "listening flow sends silence after its prompt: the same packets each way."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir")
    ap.add_argument("--calls", default="100,250,500,1000,1500,2000")
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--keep-going", action="store_true",
                    help="run every M even after a miss (max_ok_calls still stops at the "
                         "first miss); calls that fail to set up always stop the ramp")
    ap.add_argument("--flow", default="echo",
                    help=f"also run each step against this flow (e.g. {bc.LISTEN_FLOW_NAME}, "
                         "the listening flow of bench_common.py) and compare with echo")
    ap.add_argument("--payload", choices=("tone", "quiet", "talk"),
                    help="what the callers send (default: tone; quiet with --flow)")
    ap.add_argument("--name", help="results file name (default echo_load, echo_load_vad with "
                                   "--flow)")
    bc.add_results_dir_arg(ap)
    args = ap.parse_args()
    listening = args.flow != "echo"
    payload = args.payload or ("quiet" if listening else "tone")
    name = args.name or ("echo_load_vad" if listening else "echo_load")
    build = bc.find_build_dir(args.build_dir)
    loadgen = build / "bench" / "loadgen_echo"
    atende = build / "atende"
    if not bc.atende_usable(atende):
        raise SystemExit(f"{atende} cannot `serve`")
    results = {"machine": bc.machine(), "seconds": args.seconds, "warmup": args.warmup,
               "flow": args.flow, "payload": payload,
               "loadavg_start": round(os.getloadavg()[0], 2),
               "generator_sched": " ".join(GENERATOR_PREFIX) or "normal",
               "limits": {"jitter_p99_ms": JITTER_LIMIT_MS, "loss_pct": LOSS_LIMIT_PCT,
                          "generator_late_p99_ms": LATE_LIMIT_MS}, "steps": []}
    if listening:
        results["listen_flow_yaml"] = bc.FLOWS.get(args.flow)
    max_ok, max_ok_listen, rss = 0, 0, None
    missed = missed_listen = False
    with tempfile.TemporaryDirectory() as tmp:
        flows = bc.write_flows_dir(pathlib.Path(tmp) / "flows")
        server_args = ["--flows-dir", str(flows)] if listening else []
        for calls in (int(c) for c in args.calls.split(",")):
            step = {"calls": calls}
            step["bare"] = bench_reflector(build, loadgen, calls, args.seconds, args.warmup,
                                           payload)
            step["bare"]["misses"] = misses(step["bare"], calls)
            print("bare", calls, step["bare"], flush=True)
            step["atende"] = bench_atende(atende, loadgen, calls, args.seconds, args.warmup,
                                          pathlib.Path(tmp) / f"atende_{calls}",
                                          server_args=server_args, payload=payload)
            step["atende"]["misses"] = misses(step["atende"], calls)
            print("atende", calls, step["atende"], flush=True)
            bare_us = step["bare"].get("server_cpu_us_per_packet")
            ours_us = step["atende"].get("server_cpu_us_per_packet")
            if bare_us and ours_us:
                step["cpu_ratio"] = round(ours_us / bare_us, 2)
            if listening:
                step["listen"] = bench_atende(atende, loadgen, calls, args.seconds, args.warmup,
                                              pathlib.Path(tmp) / f"listen_{calls}",
                                              server_args=server_args, service=args.flow,
                                              payload=payload)
                step["listen"]["misses"] = misses(step["listen"], calls)
                print("listen", calls, step["listen"], flush=True)
                listen_us = step["listen"].get("server_cpu_us_per_packet")
                if listen_us and ours_us:
                    step["listen_echo_ratio"] = round(listen_us / ours_us, 2)
                if listen_us and bare_us:
                    step["listen_bare_ratio"] = round(listen_us / bare_us, 2)
                missed_listen = missed_listen or bool(step["listen"]["misses"])
                if not missed_listen:
                    max_ok_listen = calls
            results["steps"].append(step)
            if step["atende"].get("rss_kb_per_idle_call") is not None:
                rss = step["atende"]["rss_kb_per_idle_call"]
            missed = missed or bool(step["atende"]["misses"])
            if not missed:
                max_ok = calls
            results["summary"] = {"max_ok_calls": max_ok, "rss_kb_per_idle_call": rss}
            if listening:
                results["summary"]["max_ok_listen"] = max_ok_listen
            # After every step, so a run cut short by run-all's timeout still leaves results.
            bc.write_results(name, results, markdown(results), quiet=True, out=args.results_dir)
            set_up = min(step[k]["established"] for k in ("atende", "listen") if k in step)
            if set_up < calls or ((missed and (missed_listen or not listening))
                                  and not args.keep_going):
                break
    bc.write_results(name, results, markdown(results), out=args.results_dir)


if __name__ == "__main__":
    main()
