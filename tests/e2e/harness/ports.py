"""Free loopback ports. Each test binds its own, so runs never collide with each other or
with a developer's running atende on 5060."""
import random
import socket

LOOPBACK = "127.0.0.1"


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
        if all(_udp_free(p, host) and _tcp_free(p, host) for p in range(port, port + span)):
            return port
    raise RuntimeError("no free port found")


def free_udp_range(count, host=LOOPBACK):
    """(lo, hi) with count consecutive free UDP ports, even-aligned for RTP."""
    for _ in range(200):
        lo = random.randrange(31000, 32700 - count) & ~1
        if all(_udp_free(p, host) for p in range(lo, lo + count)):
            return lo, lo + count - 1
    raise RuntimeError("no free UDP port range found")
