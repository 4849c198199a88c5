#!/usr/bin/env python3
"""AudioSocket sessions at a fixed concurrency against a running atende: N connections, each
behaving as Asterisk's AudioSocket() (UUID, one 320-byte slin frame every 20 ms, 0x00 at the
end), on a listener whose flow is given (echo by default). Reports atende's CPU per session
(from /proc/<pid>/stat over the steady part), frames received per session per second
(50 expected), and how many sessions were cut. A first measurement, not the full benchmark
of issue 12 (that wants VAD on every call and a SIP comparison in the same run).

  bench/audiosocket_load.py --port 9092 --pid $(pidof atende) --sessions 200 --seconds 30
"""
import argparse
import asyncio
import os
import struct
import time
import uuid

FRAME = struct.pack("!BH", 0x10, 320) + b"\x00\x01" * 160


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def session(host, port, seconds, stats):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(struct.pack("!BH", 1, 16) + uuid.uuid4().bytes)
    received = 0
    cut = False

    async def read():
        nonlocal received, cut
        try:
            while True:
                head = await reader.readexactly(3)
                kind, length = struct.unpack("!BH", head)
                if length:
                    await reader.readexactly(length)
                if kind == 0x10:
                    received += 1
                elif kind in (0x00, 0xFF):
                    cut = True
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return

    task = asyncio.create_task(read())
    start = time.monotonic()
    next_at = start
    late = 0
    try:
        while time.monotonic() - start < seconds and not cut:
            writer.write(FRAME)
            next_at += 0.020
            now = time.monotonic()
            if now - next_at > 0.1:
                # This generator fell behind (its own event loop is overloaded): skip ahead as
                # a real-time source would, rather than burst the backlog.
                late += 1
                next_at = now
            await asyncio.sleep(max(0.0, next_at - now))
        writer.write(struct.pack("!BH", 0, 0))
        await writer.drain()
        await asyncio.sleep(0.2)
    except ConnectionError:
        cut = True
    writer.close()
    task.cancel()
    stats.append((received / seconds, cut, late))


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9092)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=30)
    a = ap.parse_args()
    stats = []
    tasks = []
    for _ in range(a.sessions):  # ramp: 50 per second
        tasks.append(asyncio.create_task(session(a.host, a.port, a.seconds, stats)))
        await asyncio.sleep(0.02)
    await asyncio.sleep(5)  # steady state
    c0, t0 = cpu_seconds(a.pid), time.monotonic()
    await asyncio.sleep(max(1.0, a.seconds - 10))
    c1, t1 = cpu_seconds(a.pid), time.monotonic()
    await asyncio.gather(*tasks)
    cpu = (c1 - c0) / (t1 - t0)
    rates = sorted(r for r, _, _ in stats)
    print(f"sessions={a.sessions} atende_cpu={cpu * 100:.1f}% of a core "
          f"per_session={cpu * 100 / a.sessions:.3f}% "
          f"frames_per_s min={rates[0]:.1f} median={rates[len(rates) // 2]:.1f} "
          f"cut={sum(1 for _, c, _ in stats if c)} "
          f"generator_fell_behind={sum(1 for *_, l in stats if l)} sessions")


if __name__ == "__main__":
    asyncio.run(main())
