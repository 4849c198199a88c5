"""Free loopback ports. Each test binds its own, so runs never collide with each other or
with a developer's running atende on 5060."""
import random
import socket

LOOPBACK = "127.0.0.1"

# Ports this process has handed out: a port is free until its owner binds it, so without
# this two picks in a row (a server's SIP and HTTP ports) could return the same one.
_handed_out = set()


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


def free_port(span=1, host=LOOPBACK):
    """A port P such that P..P+span-1 are free for both UDP and TCP.

    span=2 suits SIP peers that also bind TLS on P+1 (baresip). The range avoids the
    kernel's ephemeral range so a port we pick is not handed to someone else's connect().
    """
    for _ in range(500):
        port = random.randrange(20000, 31000 - span)
        ports = range(port, port + span)
        if any(p in _handed_out for p in ports):
            continue
        if all(_udp_free(p, host) and _tcp_free(p, host) for p in ports):
            _handed_out.update(ports)
            return port
    raise RuntimeError("no free port found")


def free_udp_range(count, host=LOOPBACK):
    """(lo, hi) with count consecutive free UDP ports, even-aligned for RTP: from 31000-32699
    or 61000-65499, apart from free_port()'s, the kernel's ephemeral range (32768-60999) and
    baresip's own RTP ports (10000-20000), so tests running at once rarely pick ranges that
    overlap (a server skips a port taken after all, but not a whole range)."""
    for _ in range(200):
        start, end = random.choice([(31000, 32700), (61000, 65500), (61000, 65500)])
        lo = random.randrange(start, end - count) & ~1
        ports = range(lo, lo + count)
        if any(p in _handed_out for p in ports):
            continue
        if all(_udp_free(p, host) for p in ports):
            _handed_out.update(ports)
            return lo, lo + count - 1
    raise RuntimeError("no free UDP port range found")
