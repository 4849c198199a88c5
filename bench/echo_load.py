#!/usr/bin/python3
"""Echo load: M concurrent RTP streams (20 ms G.711 packets) reflected by the server, against
bench/baseline_udp_echo (bare epoll reflector) and against atende's `echo` flow (M real SIP
calls). Reports per server: packets out/back, loss, return-pacing jitter (RFC 3550
interarrival jitter of the packets coming back, receive times from SO_TIMESTAMPNS), CPU per
packet of the server, and for atende the memory per idle call (RSS delta / calls).

Usage: bench/echo_load.py [--build-dir DIR] [--calls 20] [--seconds 10]
Results: bench/results/echo_load.{json,md}. Bounded: about 2 x seconds + setup per server.
"""
import argparse
import pathlib
import select
import socket
import struct
import subprocess
import tempfile
import time

import bench_common as bc
from harness import procs, rtp
from harness.ports import free_udp_range
from harness.sip_raw import RawCall, SipSocket, simple_sdp

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
PTIME = 0.02


class Stream:
    def __init__(self, dest):
        self.sock = rtp.open_rtp_socket()
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.setblocking(False)
        self.dest = dest
        self.ssrc = id(self) & 0xFFFFFFFF
        self.sent = 0
        self.received = 0
        self.jitter = 0.0      # RFC 3550 6.4.1, in seconds
        self.prev_transit = None

    def send(self, payload):
        packet = rtp.rtp_packet(self.sent, self.sent * 160, self.ssrc, 0, payload)
        self.sock.sendto(packet, self.dest)
        self.sent += 1

    def drain(self):
        while True:
            try:
                data, anc, _, _ = self.sock.recvmsg(2048, 64)
            except BlockingIOError:
                return
            arrival = time.time()
            for level, kind, value in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", value[:16])
                    arrival = sec + nsec / 1e9
            self.received += 1
            if len(data) >= 12:
                ts = struct.unpack("!I", data[4:8])[0]
                # Transit relative to the RTP clock; a server may rewrite timestamps, which
                # only shifts transit by a constant per stream and leaves jitter intact.
                transit = arrival - ts / 8000.0
                if self.prev_transit is not None:
                    d = abs(transit - self.prev_transit)
                    self.jitter += (d - self.jitter) / 16.0
                self.prev_transit = transit


def drive(streams, seconds):
    """Sends one packet per stream every 20 ms from a drift-free schedule, receiving between."""
    payload = rtp.tone_ulaw(frames=1)
    socks = {s.sock.fileno(): s for s in streams}
    start = time.monotonic()
    ticks = int(seconds / PTIME)
    for tick in range(ticks):
        for s in streams:
            s.send(payload)
        next_tick = start + (tick + 1) * PTIME
        while True:
            left = next_tick - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select(list(socks), [], [], left)
            for fd in ready:
                socks[fd].drain()
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        ready, _, _ = select.select(list(socks), [], [], 0.1)
        for fd in ready:
            socks[fd].drain()


def summarise(streams, cpu_s, seconds):
    sent = sum(s.sent for s in streams)
    back = sum(s.received for s in streams)
    jitters = sorted(s.jitter * 1000 for s in streams)
    return {
        "streams": len(streams), "seconds": seconds, "packets_sent": sent, "packets_back": back,
        # atende streams on its own clock (prompts, silence), so back may exceed sent; loss
        # is only meaningful for a pure reflector.
        "loss_pct": round(100.0 * (sent - back) / sent, 3) if sent and back <= sent else None,
        "jitter_ms_median": round(jitters[len(jitters) // 2], 3) if jitters else None,
        "jitter_ms_max": round(jitters[-1], 3) if jitters else None,
        "server_cpu_pct": round(100.0 * cpu_s / seconds, 1),
        # Per packet handled: each one the server received plus each one it sent.
        "server_cpu_us_per_packet": round(1e6 * cpu_s / (sent + back), 2) if sent else None,
    }


def bench_baseline(binary, calls, seconds):
    lo, hi = free_udp_range(calls)
    proc = subprocess.Popen([str(binary), "--ports", f"{lo}-{lo + calls - 1}"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("ready"), "baseline_udp_echo did not start"
        streams = [Stream(("127.0.0.1", lo + i)) for i in range(calls)]
        cpu0 = procs.cpu_seconds(proc.pid)
        drive(streams, seconds)
        result = summarise(streams, procs.cpu_seconds(proc.pid) - cpu0, seconds)
    finally:
        proc.terminate()
        proc.wait(10)
    return result


def bench_atende(binary, calls, seconds, workdir):
    server = bc.Server("atende", binary, workdir, max_calls=calls + 10,
                       rtp_ports=4 * calls + 10).start()
    sip_socks, dialogs, streams = [], [], []
    try:
        time.sleep(0.5)
        rss_before = procs.rss_bytes(server.pid())
        for i in range(calls):
            stream_sock = rtp.open_rtp_socket()
            sip = SipSocket(server.sip_port)
            call = RawCall(sip, "echo", sdp=simple_sdp(stream_sock.getsockname()[1]))
            code = call.invite()
            assert code == 200, f"call {i}: {code}\n{server.log_tail()}"
            call.ack()
            sip_socks.append(sip)
            dialogs.append(call)
            stream = Stream(call.media_addr())
            stream.sock.close()
            stream.sock = stream_sock  # the socket whose port we offered in the SDP
            stream.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            stream.sock.setblocking(False)
            streams.append(stream)
        time.sleep(1.0)
        rss_idle = procs.rss_bytes(server.pid())
        cpu0 = procs.cpu_seconds(server.pid())
        drive(streams, seconds)
        result = summarise(streams, procs.cpu_seconds(server.pid()) - cpu0, seconds)
        result["rss_kb_per_idle_call"] = round((rss_idle - rss_before) / 1024 / calls, 1)
        for call in dialogs:
            call.bye(2.0)
    finally:
        for s in sip_socks:
            s.close()
        for s in streams:
            s.sock.close()
        server.stop()
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir")
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    build = bc.find_build_dir(args.build_dir)
    results = {"machine": bc.machine(), "calls": args.calls, "seconds": args.seconds}
    results["bare"] = bench_baseline(build / "bench" / "baseline_udp_echo", args.calls,
                                     args.seconds)
    print("bare", results["bare"])
    atende = build / "atende"
    if bc.atende_usable(atende):
        with tempfile.TemporaryDirectory() as tmp:
            results["atende"] = bench_atende(atende, args.calls, args.seconds, pathlib.Path(tmp))
        print("atende", results["atende"])
    else:
        print(f"note: {atende} cannot `serve` yet; measuring the bare reflector only")

    cols = ["packets_sent", "packets_back", "loss_pct", "jitter_ms_median", "jitter_ms_max",
            "server_cpu_pct", "server_cpu_us_per_packet", "rss_kb_per_idle_call"]
    lines = ["# Echo load: atende echo flow vs. bare UDP reflector", "",
             f"{results['machine']['when']}, {results['machine']['cpus']} CPUs, "
             f"{args.calls} streams x {args.seconds:g} s at 50 packets/s each.", "",
             "| server | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for label in ("bare", "atende"):
        if label in results:
            lines.append(f"| {label} | " + " | ".join(str(results[label].get(c, "-"))
                                                     for c in cols) + " |")
    if "atende" in results and results["bare"]["server_cpu_us_per_packet"]:
        ratio = (results["atende"]["server_cpu_us_per_packet"] /
                 results["bare"]["server_cpu_us_per_packet"])
        results["cpu_per_packet_ratio"] = round(ratio, 2)
        lines += ["", f"CPU per packet, atende/bare: {ratio:.2f}"]
    lines += ["", "Jitter is measured on the caller side and includes this Python driver's "
              "own scheduling; compare rows, not absolute values."]
    bc.write_results("echo_load", results, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
