"""Hostile RTP during an echo call: malformed packets and packets from a stranger's address
must not crash the server, must not stop the caller's echo, and must not be echoed to the
stranger (no media hijack by whoever sends first or loudest)."""
import os
import re
import socket
import struct
import time

import pytest

from harness import http_api, rtp
from harness.sip_raw import RawCall, SipSocket, simple_sdp

pytestmark = pytest.mark.atende_only

SSRC = 0x1234ABCD


def _bad_packets():
    good = rtp.rtp_packet(1, 160, 0x51, 0, rtp.ULAW_SILENCE)
    return [
        b"",
        b"\x80",
        good[:11],                                                   # shorter than a header
        b"\x00" + good[1:],                                          # version 0
        b"\x8f" + good[1:12] + b"\x00" * 8,                          # 15 CSRCs, 8 bytes left
        b"\x90" + good[1:12] + struct.pack("!HH", 0xBEDE, 0xFFFF),   # extension longer than packet
        b"\xa0" + good[1:] [:-1] + b"\xff",                          # padding length > payload
        rtp.rtp_packet(2, 320, 0x51, 101, b"\x01"),                 # truncated RFC 4733 event
        rtp.rtp_packet(3, 480, 0x51, 101, b"\xff\xff\xff\xff"),     # event 255
        rtp.rtp_packet(4, 640, 0x51, 127, os.urandom(160)),         # unknown payload type
        rtp.rtp_packet(5, 800, 0x51, 0, os.urandom(1400)),          # oversize for 20 ms
        os.urandom(1500),
        b"\x80\xc8" + os.urandom(50),                                # RTCP SR on the RTP port
    ]


def _is_tone(packet):
    """True for an RTP packet whose G.711 payload carries our tone rather than silence or
    comfort noise (the server may send a continuous stream of its own)."""
    return len(packet) > 12 + 100 and len(set(packet[12:])) > 16


def _drain(sock, seconds):
    """Every datagram that arrives on sock within seconds (bounded: a server that streams
    continuously would otherwise keep us reading forever)."""
    got = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            got.append(sock.recvfrom(2048)[0])
        except (socket.timeout, BlockingIOError):
            break
    return got


def _count_echo(sock, packets, dest):
    """Sends packets paced at 20 ms, then returns how many tone packets came back to sock."""
    _drain(sock, 0.05)  # forget what arrived before this burst
    rtp.send_paced(sock, dest, packets)
    return sum(1 for p in _drain(sock, 1.0) if _is_tone(p))


def test_bad_and_stranger_rtp_during_echo_call(server):
    caller_rtp = rtp.open_rtp_socket()
    stranger = rtp.open_rtp_socket()
    try:
        with SipSocket(server.sip_port) as sock:
            call = RawCall(sock, "echo", sdp=simple_sdp(caller_rtp.getsockname()[1]))
            assert call.invite() == 200
            call.ack()
            dest = call.media_addr()
            assert dest and dest[1] > 0, call.final

            tone = rtp.tone_ulaw(frames=50)
            frames = [tone[i:i + 160] for i in range(0, len(tone), 160)]
            first = [rtp.rtp_packet(i, i * 160, SSRC, 0, f) for i, f in enumerate(frames)]
            assert _count_echo(caller_rtp, first, dest) > 0, "no echo before the attack"

            for packet in _bad_packets() * 3:
                stranger.sendto(packet, dest)
                caller_rtp.sendto(packet, dest)
            stranger_stream = [rtp.rtp_packet(1000 + i, 99999 + i * 160, 0x5757, 0, f)
                               for i, f in enumerate(frames)]
            rtp.send_paced(stranger, dest, stranger_stream)

            later = [rtp.rtp_packet(50 + i, (50 + i) * 160, SSRC, 0, f)
                     for i, f in enumerate(frames)]
            assert _count_echo(caller_rtp, later, dest) > 0, "echo stopped after the attack"
            leaked = len(_drain(stranger, 0.5))
            assert leaked == 0, f"the stranger received {leaked} packets of the call's audio"
            assert call.bye() == 200
    finally:
        caller_rtp.close()
        stranger.close()
    server.assert_healthy()


def test_stranger_sending_first_and_after_reinvite_never_gets_the_call(server):
    """A stranger on another address (127.0.0.9: all of 127/8 reaches lo) sends RTP to the
    call's port before the caller's first packet, and again right after a re-INVITE: it
    never latches, never receives a packet, and the caller keeps its audio (strict
    latching, docs/media.md). Its packets are counted as rejected in /metrics."""
    caller_rtp = rtp.open_rtp_socket()
    stranger = rtp.open_rtp_socket("127.0.0.9")
    try:
        with SipSocket(server.sip_port) as sock:
            sdp = simple_sdp(caller_rtp.getsockname()[1])
            call = RawCall(sock, "echo", sdp=sdp)
            assert call.invite() == 200
            call.ack()
            dest = call.media_addr()
            assert dest and dest[1] > 0, call.final

            tone = rtp.tone_ulaw(frames=50)
            frames = [tone[i:i + 160] for i in range(0, len(tone), 160)]

            def stream(ssrc, first_seq):
                return [rtp.rtp_packet(first_seq + i, (first_seq + i) * 160, ssrc, 0, f)
                        for i, f in enumerate(frames)]

            # Before the caller says anything: the stranger tries to take the call.
            rtp.send_paced(stranger, dest, stream(0x5757, 1000))
            assert _count_echo(caller_rtp, stream(SSRC, 0), dest) > 0, "no audio for the caller"
            assert len(_drain(stranger, 0.5)) == 0, "the stranger latched the call"

            # A re-INVITE (same address, new version) must not re-open the latch.
            again = sdp.replace(b"o=- 1 1 ", b"o=- 1 2 ")
            assert call.reinvite(again) == 200
            rtp.send_paced(stranger, dest, stream(0x5757, 2000))
            assert _count_echo(caller_rtp, stream(SSRC, 50), dest) > 0, "audio stopped"
            leaked = len(_drain(stranger, 0.5))
            assert leaked == 0, f"the stranger received {leaked} packets after the re-INVITE"

            metrics = http_api.get_text(server.http_base + "/metrics")
            rejected = re.search(
                r'^atende_rtp_rejected_packets_total\{reason="address"\} (\d+)', metrics, re.M)
            assert rejected and int(rejected.group(1)) >= 50, metrics[-2000:]
            assert call.bye() == 200
    finally:
        caller_rtp.close()
        stranger.close()
    server.assert_healthy()
