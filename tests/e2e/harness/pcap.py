"""RTP audio as a pcap file for SIPp's play_pcap_audio (SIPp replays the packets' RTP at
their capture times, to the peer's media address): a PCMU tone a callee can play as early
media or in a call."""
import struct

from .rtp import rtp_packet, tone_ulaw


def _ipv4_udp(payload, src_port=6000, dst_port=6002):
    udp = struct.pack("!HHHH", src_port, dst_port, 8 + len(payload), 0) + payload
    total = 20 + len(udp)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    return ip + udp


def write_tone_pcap(path, freq_hz, seconds, amplitude=8000):
    """A pcap (Ethernet/IPv4/UDP/RTP, PT 0) of `seconds` of a PCMU tone, 20 ms per packet."""
    frames = int(seconds * 50)
    audio = tone_ulaw(freq_hz, amplitude, frames)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(frames):
            rtp = rtp_packet(i, i * 160, 0x1234ABCD, 0, audio[i * 160:(i + 1) * 160])
            frame = b"\x00" * 12 + b"\x08\x00" + _ipv4_udp(rtp)
            us = i * 20000
            f.write(struct.pack("<IIII", us // 1_000_000, us % 1_000_000, len(frame), len(frame)))
            f.write(frame)
    return path
