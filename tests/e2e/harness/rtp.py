"""RTP packets built by hand: G.711 audio and RFC 4733 events, plus a paced sender."""
import math
import socket
import struct
import time

from .ports import LOOPBACK


def rtp_packet(seq, timestamp, ssrc, payload_type, payload, marker=False):
    first = 0x80  # version 2, no padding, no extension, no CSRC
    second = (0x80 if marker else 0) | (payload_type & 0x7F)
    return struct.pack("!BBHII", first, second, seq & 0xFFFF, timestamp & 0xFFFFFFFF,
                       ssrc) + payload


def linear_to_ulaw(sample):
    """ITU-T G.711 mu-law encoding of one 16-bit sample."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    sample = min(abs(sample), clip) + bias
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not sample & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


ULAW_SILENCE = bytes([0xFF]) * 160


def tone_ulaw(freq_hz=440.0, amplitude=8000, frames=1, rate=8000):
    """frames x 160 bytes of a mu-law sine (contiguous phase)."""
    n = 160 * frames
    return bytes(linear_to_ulaw(int(amplitude * math.sin(2 * math.pi * freq_hz * i / rate)))
                 for i in range(n))


def dtmf_event_packets(digit, seq, timestamp, ssrc, payload_type=101, duration_ms=160):
    """The RFC 4733 packets of one event: updates every 20 ms, 3 end packets."""
    event = "0123456789*#".index(digit)
    packets = []
    steps = duration_ms // 20
    for i in range(1, steps + 1):
        payload = struct.pack("!BBH", event, 10, i * 160)
        packets.append(rtp_packet(seq, timestamp, ssrc, payload_type, payload, marker=(i == 1)))
        seq += 1
    for _ in range(3):
        payload = struct.pack("!BBH", event, 0x80 | 10, steps * 160)
        packets.append(rtp_packet(seq, timestamp, ssrc, payload_type, payload))
        seq += 1
    return packets, seq


def open_rtp_socket(host=LOOPBACK):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    return s


def send_paced(sock, dest, packets, interval_s=0.02):
    """Sends packets at a fixed pace from a monotonic schedule (no drift)."""
    start = time.monotonic()
    for i, p in enumerate(packets):
        delay = start + i * interval_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sock.sendto(p, dest)
