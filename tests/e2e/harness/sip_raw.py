"""Hand-built SIP datagrams, for what SIPp cannot send: malformed and hostile messages,
and quick probes (OPTIONS ping) that need no scenario file."""
import random
import re
import socket
import time

from .ports import LOOPBACK


def _token():
    return "%08x" % random.getrandbits(32)


def build_request(method, ruri, *, local_port, target, call_id=None, cseq=1, from_tag=None,
                  to_tag=None, contact=None, extra_headers=(), body=b"",
                  content_type="application/sdp", via_host=LOOPBACK):
    """A well-formed request; callers corrupt it as they like. Returns bytes."""
    call_id = call_id or f"{_token()}@{via_host}"
    from_tag = from_tag or _token()
    if isinstance(body, str):
        body = body.encode()
    contact = contact if contact is not None else f"<sip:probe@{via_host}:{local_port}>"
    to = f"<{ruri}>" + (f";tag={to_tag}" if to_tag else "")
    lines = [
        f"{method} {ruri} SIP/2.0",
        f"Via: SIP/2.0/UDP {via_host}:{local_port};branch=z9hG4bK{_token()};rport",
        "Max-Forwards: 70",
        f"From: <sip:probe@{via_host}:{local_port}>;tag={from_tag}",
        f"To: {to}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
        f"Contact: {contact}",
        *extra_headers,
    ]
    if body:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body)}")
    head = "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n"
    return head + body


def simple_sdp(rtp_port, payloads=((0, "PCMU/8000"), (101, "telephone-event/8000")),
               direction=None, host=LOOPBACK):
    pts = " ".join(str(pt) for pt, _ in payloads)
    lines = ["v=0", f"o=- 1 1 IN IP4 {host}", "s=-", f"c=IN IP4 {host}", "t=0 0",
             f"m=audio {rtp_port} RTP/AVP {pts}"]
    lines += [f"a=rtpmap:{pt} {name}" for pt, name in payloads]
    if direction:
        lines.append(f"a={direction}")
    return ("\r\n".join(lines) + "\r\n").encode()


class SipSocket:
    """A UDP socket bound to a free loopback port that sends datagrams and collects replies."""

    def __init__(self, target_port, target_host=LOOPBACK):
        self.target = (target_host, target_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendto(data, self.target)

    def receive(self, timeout=2.0, until=None):
        """Datagrams received within timeout; stops early once until(msgs) is true."""
        msgs = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return msgs
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                return msgs
            msgs.append(data)
            if until and until(msgs):
                return msgs

    def final_response(self, timeout=5.0):
        """Status code of the first final (>=200) response, or None. Ignores requests the
        server sends us (e.g. a BYE) and provisional responses."""
        msgs = self.receive(timeout, until=lambda m: any((status_of(x) or 0) >= 200 for x in m))
        for m in msgs:
            code = status_of(m)
            if code and code >= 200:
                return code
        return None

    def request(self, data, timeout=5.0):
        self.send(data)
        return self.final_response(timeout)


_STATUS = re.compile(rb"^SIP/2\.0 (\d{3}) ")


def status_of(message):
    m = _STATUS.match(message)
    return int(m.group(1)) if m else None


def header(message, name):
    """First value of a header (case-insensitive), or None."""
    head = message.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def options_ping(port, host=LOOPBACK, timeout=1.0):
    """Status code of an out-of-dialog OPTIONS, or None if nothing answered."""
    with SipSocket(port, host) as s:
        ruri = f"sip:ping@{host}:{port}"
        return s.request(build_request("OPTIONS", ruri, local_port=s.port, target=port),
                         timeout)
