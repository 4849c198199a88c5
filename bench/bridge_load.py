#!/usr/bin/python3
"""Bridge load: N concurrent bridged calls, each caller -> atende -> SIPp echo -> atende ->
caller, against the same number of legs of plain echo calls, in the same run.

Bridged: bench/loadgen_echo places N calls to the flow `bridged` (written by this script into
a temp flows dir next to a copy of flows/echo.yaml): a `dial` to one SIPp UAS
(tests/e2e/sipp/uas_answer.xml with -rtp_echo, which sends every RTP packet back to where it
came from; one SIPp process for all calls of a step) and a `bridge`, no prompts. atende then
carries 2 legs per call and relays every caller packet twice (caller -> SIPp, SIPp ->
caller): 4 packets through atende per call per 20 ms.
Echo (the baseline): loadgen_echo places 2N calls to the `echo` flow: 2N legs, 2 packets each
per 20 ms, the same 4N packets per 20 ms through atende.

Per step and mode, fresh atende (and SIPp): loadgen_echo's measure on the caller-facing legs
(jitter p50/p99/max of |arrival gap - 20 ms x seq step|, kernel timestamps; loss), atende's
CPU over the steady window, and CPU per packet through atende = CPU / (packets the callers
sent + received) x (2 for bridged, 1 for echo: the dialled leg's packets, which the callers
do not see, are as many again). The ratio bridged / echo is what bridging costs per packet
over echoing. The dialled legs' far end is bench/loadgen_timed_echo, not SIPp's -rtp_echo: SIPp
answers the calls with an SDP naming the reflector's port, and the reflector echoes and times
what atende sends on those legs (the same jitter measure, kept to the steady window), so
atende's pacing is measured on both legs. The loopback's UDP datagram count
(/proc/net/snmp) over the window checks the packet count.

Usage: bench/bridge_load.py [--build-dir DIR] [--calls 100,250,500] [--seconds 10]
                            [--warmup 5] [--results-dir DIR]
Results: bench/results/bridge_load.{json,md} (or in --results-dir). Every process is bounded.
"""
import argparse
import array
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading
import time

import bench_common as bc
import echo_load as el
from harness.sipp import SippUas

BRIDGED_FLOW = """# Written by bench/bridge_load.py: dial the SIPp echo UAS and bridge the caller to it.
name: bridged
start: call
steps:
  call:
    type: dial
    to: "{uri}"
    ring_timeout: 10s
    next: talk
    on_failure: sorry
  talk:
    type: bridge
    on_failure: sorry
  sorry:
    type: hangup
"""


def proc_cpu_s(pid):
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def udp_in_datagrams():
    lines = [l.split() for l in pathlib.Path("/proc/net/snmp").read_text().splitlines()
             if l.startswith("Udp:")]
    return int(lines[1][lines[0].index("InDatagrams")])


class Sampler(threading.Thread):
    """Every 0.2 s: (monotonic time, SIPp CPU s, system UDP datagrams received)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.samples.append((time.monotonic(), proc_cpu_s(self.pid) if self.pid else None,
                                 udp_in_datagrams()))
            self.stop.wait(0.2)

    def window(self, t0, t1):
        inside = [s for s in self.samples if t0 <= s[0] <= t1]
        if len(inside) < 2:
            return {}
        a, b = inside[0], inside[-1]
        dt = b[0] - a[0]
        out = {"udp_datagrams_per_s": round((b[2] - a[2]) / dt)}
        if a[1] is not None and b[1] is not None:
            out["sipp_cpu_pct"] = round(100 * (b[1] - a[1]) / dt, 1)
        return out


FAR_END = {
    "own-clock": "bench/loadgen_timed_echo --own-clock 1 (sends each leg's newest packet back "
                 "every 20 ms on its own clock, as a phone does)",
    "echo": "bench/loadgen_timed_echo echoing each packet at once (locked to atende's clock: "
            "the dialled legs chase their own phase, bench/README.md)"}


class TimedReflector:
    """bench/loadgen_timed_echo on a free port: echoes the dialled legs' RTP and times it."""

    def __init__(self, binary, workdir, own_clock):
        self.port = free_udp_port()
        self.out = workdir / "reflector.bin"
        self.proc = subprocess.Popen([str(binary), "--port", str(self.port), "--out",
                                      str(self.out), "--own-clock", "1" if own_clock else "0"],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"loadgen_timed_echo did not start: {line!r}")

    def stop(self, t0_mono, t1_mono):
        """Stops it; the jitter of the samples received between t0 and t1 (monotonic)."""
        self.proc.terminate()
        try:
            self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return {}
        shift = time.time() - time.monotonic()  # kernel stamps are CLOCK_REALTIME
        lo, hi = int((t0_mono + shift) * 1e9), int((t1_mono + shift) * 1e9)
        raw = array.array("q")
        raw.frombytes(self.out.read_bytes())
        devs = sorted(raw[i + 1] for i in range(0, len(raw) - 1, 2) if lo <= raw[i] <= hi)
        if not devs:
            return {}
        pick = lambda q: round(devs[min(len(devs) - 1, int(q * len(devs)))] / 1e6, 3)
        return {"dialled_jitter_p50_ms": pick(0.5), "dialled_jitter_p99_ms": pick(0.99),
                "dialled_jitter_max_ms": round(devs[-1] / 1e6, 3), "dialled_samples": len(devs)}


def free_udp_port():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uas_scenario_to(port, workdir):
    """uas_answer.xml with its SDP naming `port` (the reflector) instead of SIPp's own."""
    text = (bc.SOURCE_DIR / "tests" / "e2e" / "sipp" / "uas_answer.xml").read_text()
    path = workdir / "uas_answer_reflector.xml"
    path.write_text(text.replace("m=audio [media_port]", f"m=audio {port}"))
    return path


def run_step(mode, binary, loadgen, calls, seconds, warmup, workdir, flows, own_clock=True):
    """mode 'bridged': `calls` calls to `bridged` (2 legs each); 'echo': `calls` to `echo`."""
    workdir.mkdir(parents=True, exist_ok=True)
    uas = reflector = None
    legs = calls * (2 if mode == "bridged" else 1)
    if mode == "bridged":
        reflector = TimedReflector(loadgen.parent / "loadgen_timed_echo", workdir, own_clock)
        uas = SippUas(uas_scenario_to(reflector.port, workdir), workdir / "sipp",
                      calls=1000000, timeout_s=600, trace_messages=False, tag="uas",
                      echo=False)
        uas.start()
        (flows / "bridged.yaml").write_text(BRIDGED_FLOW.format(uri=uas.uri("echo")))
    server = bc.Server("atende", binary, workdir, max_calls=legs + 100,
                       extra_args=["--log-level", "warn", "--flows-dir", str(flows)])
    server.rtp_range = el.RTP_PORTS
    sampler = Sampler(uas.proc.pid if uas else None)
    r = {}
    try:
        server.start()
        sampler.start()
        t_start = time.monotonic()
        r.update(el.run_loadgen(loadgen, ["--sip", server.sip_target, "--service", mode], calls,
                           seconds, warmup, server.pid()))
        r.update(el.read_wait(server))
        # The steady window inside the run: setup, 1 s settle, warm-up, window, BYEs;
        # take the middle of where it must be.
        w0 = t_start + r["setup_s"] + 1 + warmup + 0.5
        w1 = w0 + max(1.0, r["window_s"] - 1.5)
        r.update(sampler.window(w0, w1))
        if reflector:
            r.update(reflector.stop(w0, w1))
            reflector = None
        r["mode"], r["legs"] = mode, legs
        r["loadavg_1m_after"] = round(r["loadavg_1m_after"], 2)
        factor = 2 if mode == "bridged" else 1
        handled = (r["packets_sent"] + r["packets_received"]) * factor
        r["atende_packets"] = handled
        if r.get("server_cpu_pct") is not None and handled:
            cpu_s = r["server_cpu_pct"] / 100 * r["window_s"]
            r["cpu_us_per_atende_packet"] = round(1e6 * cpu_s / handled, 3)
        if r["established"] < calls:
            r["server_log_tail"] = server.log_tail(20)
        return r
    finally:
        sampler.stop.set()
        if reflector:
            reflector.proc.kill()
        server.stop(timeout=30)
        if uas:
            res = uas.stop()  # SIPp's counts: the dialled calls it answered and ended
            r.update({"sipp_successful": res.successful, "sipp_failed": res.failed,
                      "sipp_created": res.created})


COLS = [("mode", "mode"), ("calls", "calls"), ("legs", "legs"), ("established", "set up"),
        ("packets_sent", "caller sent"), ("packets_received", "caller received"),
        ("loss_pct", "loss %"), ("back_pct", "back/sent %"),
        ("jitter_p50_ms", "jitter p50 ms"), ("jitter_p99_ms", "p99 ms"),
        ("jitter_max_ms", "max ms"), ("dialled_jitter_p50_ms", "dialled p50 ms"),
        ("dialled_jitter_p99_ms", "dialled p99 ms"), ("dialled_jitter_max_ms", "dialled max ms"),
        ("server_cpu_pct", "atende CPU %"),
        ("cpu_us_per_atende_packet", "CPU us/pkt"), ("udp_datagrams_per_s", "UDP dgrams/s"),
        ("sipp_cpu_pct", "SIPp CPU %"), ("send_late_p99_ms", "gen late p99 ms"),
        ("loadgen_cpu_pct", "gen CPU %"), ("rss_kb_per_idle_call", "RSS KB/call"),
        ("read_wait_mean_ms", "read wait ms"), ("read_wait_le_2ms_pct", "read <= 2 ms %"),
        ("phase_moves", "phase moves"), ("loadavg_1m_after", "load 1m")]


def markdown(results):
    m = results["machine"]
    lines = ["# Bridge load: bridged calls (caller -> atende -> timed echo -> atende -> caller) "
             "vs. echo calls with the same legs", "",
             f"{m['when']}, {m['host']}, {m['cpus']} CPUs, kernel {m['kernel']}, load average "
             f"before {results['loadavg_before']}; {results['seconds']:g} s steady window after "
             f"{results['warmup']:g} s warm-up, 50 packets/s per stream each way, generator "
             f"bench/loadgen_echo (scheduling: {results['generator_sched']}). The dialled "
             f"legs' far end: {FAR_END[results.get('far_end', 'echo')]}.", "",
             "| " + " | ".join(c[1] for c in COLS) + " |", "|---" * len(COLS) + "|"]
    for step in results["steps"]:
        for mode in ("echo", "bridged"):
            r = step.get(mode)
            if r:
                lines.append("| " + " | ".join(str(r.get(c[0], "-")) for c in COLS) + " |")
    lines += ["", "| bridged calls | CPU us/pkt ratio bridged / echo | jitter p99 bridged "
              "caller legs / dialled legs / echo (ms) |", "|---|---|---|"]
    for step in results["steps"]:
        b, e = step.get("bridged", {}), step.get("echo", {})
        lines.append(f"| {step['calls']} | {step.get('cpu_ratio', 'n/a')} | "
                     f"{b.get('jitter_p99_ms', '-')} / {b.get('dialled_jitter_p99_ms', '-')} "
                     f"/ {e.get('jitter_p99_ms', '-')} |")
    lines += ["", "Per step: echo = 2N calls to the `echo` flow, bridged = N calls to "
              "`bridged` (dial the SIPp UAS, bridge); both 2N legs and 4N packets per 20 ms "
              "through atende; fresh atende (and SIPp) for each. jitter/loss: loadgen_echo's "
              "measure on the caller-facing legs (kernel receive timestamps; for bridged it "
              "includes the far end's echo scheduling). dialled: the same measure on what "
              "atende sends on the dialled legs, taken by bench/loadgen_timed_echo (the dialled "
              "legs' far end: SIPp answers with an SDP naming it) over the same window. CPU us/pkt = atende "
              "utime+stime over the window / packets through atende: (caller sent + received) "
              "x 2 for bridged (the dialled leg carries as many again), x 1 for echo. UDP "
              "dgrams/s = the host's UDP InDatagrams (/proc/net/snmp) over the window: 4N x 50 "
              "for both when every packet went round. SIPp CPU % over the window, 100 % = one "
              "core; everything shares the host's cores. RSS KB/call = (atende RSS with the "
              "calls set up, settled 1 s - before) / calls: per bridged call (2 legs) or per "
              "echo call. read wait = atende_rtp_read_wait_seconds over the step (kernel "
              "receive timestamp to the media tick's read; all legs), mean and share <= 2 ms; "
              "phase moves = atende_media_phase_moves_total (the dialled legs' packets are the "
              "reflector's echo of their own: read_phase.h rests after a few futile moves)."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir")
    ap.add_argument("--calls", default="100,250,500", help="bridged calls per step")
    ap.add_argument("--far-end", choices=["own-clock", "echo"], default="own-clock",
                    help="the dialled legs' far end: sends the newest packet back every 20 ms "
                         "on its own clock, as a phone does (default), or echoes each packet "
                         "at once (locked to atende's clock: the dialled legs chase their own "
                         "phase)")
    ap.add_argument("--name", default="bridge_load", help="results file name")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=5,
                    help="after set-up: the echo flow's spoken prompt is over by then")
    bc.add_results_dir_arg(ap)
    args = ap.parse_args()
    build = bc.find_build_dir(args.build_dir).resolve()
    loadgen = build / "bench" / "loadgen_echo"
    atende = build / "atende"
    if not bc.atende_usable(atende):
        raise SystemExit(f"{atende} cannot `serve`")
    results = {"machine": bc.machine(), "seconds": args.seconds, "warmup": args.warmup,
               "far_end": args.far_end,
               "loadavg_before": [round(x, 2) for x in os.getloadavg()],
               "generator_sched": " ".join(el.GENERATOR_PREFIX) or "normal", "steps": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        flows = tmp / "flows"
        flows.mkdir()
        shutil.copy(bc.SOURCE_DIR / "flows" / "echo.yaml", flows / "echo.yaml")
        for calls in (int(c) for c in args.calls.split(",")):
            step = {"calls": calls}
            step["echo"] = run_step("echo", atende, loadgen, 2 * calls, args.seconds,
                                    args.warmup, tmp / f"echo_{calls}", flows)
            step["echo"]["calls"] = 2 * calls
            print("echo", 2 * calls, {k: v for k, v in step["echo"].items()
                                      if k != "server_log_tail"}, flush=True)
            step["bridged"] = run_step("bridged", atende, loadgen, calls, args.seconds,
                                       args.warmup, tmp / f"bridged_{calls}", flows,
                                       own_clock=args.far_end == "own-clock")
            print("bridged", calls, {k: v for k, v in step["bridged"].items()
                                     if k != "server_log_tail"}, flush=True)
            b = step["bridged"].get("cpu_us_per_atende_packet")
            e = step["echo"].get("cpu_us_per_atende_packet")
            if b and e:
                step["cpu_ratio"] = round(b / e, 2)
            results["steps"].append(step)
            results["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
            bc.write_results(args.name, results, markdown(results), quiet=True,
                             out=args.results_dir)
    bc.write_results(args.name, results, markdown(results), out=args.results_dir)


if __name__ == "__main__":
    main()
