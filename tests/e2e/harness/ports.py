"""Free loopback ports. Each test binds its own, so runs never collide with each other or
with a developer's running atende on 5060.

ctest runs several pytest processes at once. A port probed free is free only until its
owner binds it, so two processes picking at random could both take it in that window (CI
failed so: a server's SIP port was bound by another test's peer). Each process therefore
claims whole blocks of ports with an exclusive flock() on a file per block, held until the
process exits (the kernel drops it even on kill -9), and hands out ports only from its own
blocks. Within a process, a port is never handed out twice while its owner may hold it."""
import fcntl
import os
import random
import socket
import tempfile
import threading

LOOPBACK = "127.0.0.1"
BLOCK = 100

# Signalling ports (SIP, HTTP, control) sit below the RTP ranges; RTP ranges come from
# 31000-32699 and 61000-65499. Both avoid the kernel's ephemeral range (32768-60999), so a
# port we pick is not handed to someone else's connect(), and baresip's own RTP ports
# (10000-20000).
SIGNAL_SPACE = [(20000, 31000)]
RTP_SPACE = [(31000, 32700), (61000, 65500)]

_LOCK_DIR = os.path.join(tempfile.gettempdir(), "atende-test-ports")

_claimed = {}  # block start -> open lock file (kept open: closing would drop the lock)
_handed_out = set()  # ports handed out by this process and not released
# Tests start peers from several threads at once (a pool of SIPp clients): picking scans
# the blocks in order, so without the lock two threads would take the same port.
_lock = threading.RLock()


def _udp_free(port, host=LOOPBACK):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def _tcp_free(port, host=LOOPBACK):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def _try_claim(block):
    if block in _claimed:
        return True
    os.makedirs(_LOCK_DIR, exist_ok=True)
    f = open(os.path.join(_LOCK_DIR, f"block-{block}.lock"), "a+")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return False
    _claimed[block] = f
    return True


def _blocks(space):
    return [b for lo, hi in space for b in range(lo, hi - BLOCK + 1, BLOCK)]


def _claim_new(space, count=1):
    """Claims `count` adjacent blocks of `space` no other process holds; their first port."""
    starts = _blocks(space)
    random.shuffle(starts)
    for start in starts:
        run = [start + i * BLOCK for i in range(count)]
        if not all(any(lo <= b and b + BLOCK <= hi for lo, hi in space) for b in run):
            continue
        if any(b in _claimed for b in run):
            continue
        got = []
        for b in run:
            if not _try_claim(b):
                break
            got.append(b)
        if len(got) == count:
            return start
        for b in got:  # partial run: give it back
            _claimed.pop(b).close()
    raise RuntimeError(f"no free block of {count * BLOCK} test ports (too many test processes?)")


def _own_ports(space):
    for block in sorted(b for b in _claimed if any(lo <= b < hi for lo, hi in space)):
        yield from range(block, block + BLOCK)


def _take(space, span, check):
    """span consecutive ports from this process's blocks, free now; claims a block if needed."""
    for attempt in range(2):
        candidates = list(_own_ports(space))
        owned = set(candidates)
        for port in candidates:
            ports = range(port, port + span)
            if any(p not in owned or p in _handed_out for p in ports):
                continue
            if all(check(p) for p in ports):
                _handed_out.update(ports)
                return port
        _claim_new(space, count=max(1, -(-span // BLOCK)))
    raise RuntimeError("no free port found")


def free_port(span=1, host=LOOPBACK):
    """A port P such that P..P+span-1 are free for both UDP and TCP.

    span=2 suits SIP peers that also bind TLS on P+1 (baresip)."""
    with _lock:
        return _take(SIGNAL_SPACE, span, lambda p: _udp_free(p, host) and _tcp_free(p, host))


def free_udp_range(count, host=LOOPBACK):
    """(lo, hi) with count consecutive free UDP ports, even-aligned for RTP, from this
    process's RTP blocks."""
    with _lock:
        return _take_range(count, host)


def _take_range(count, host):
    for attempt in range(3):
        candidates = [p for p in _own_ports(RTP_SPACE) if p % 2 == 0]
        owned = set(_own_ports(RTP_SPACE))
        for lo in candidates:
            ports = range(lo, lo + count)
            if any(p not in owned or p in _handed_out for p in ports):
                continue
            if all(_udp_free(p, host) for p in ports):
                _handed_out.update(ports)
                return lo, lo + count - 1
        _claim_new(RTP_SPACE, count=max(1, -(-count // BLOCK)))
    raise RuntimeError("no free UDP port range found")


def release(ports):
    """Gives ports back to this process's pool once their owner has exited."""
    with _lock:
        _handed_out.difference_update(ports)
