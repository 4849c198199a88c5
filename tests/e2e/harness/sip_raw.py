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

    def __init__(self, target_port, target_host=LOOPBACK, local_host=LOOPBACK):
        """local_host: the source address (any 127.x.y.z reaches lo on Linux: a test's
        "stranger" binds 127.0.0.9)."""
        self.target = (target_host, target_port)
        self.local_host = local_host
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((local_host, 0))
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


def options_ping(port, host=LOOPBACK, timeout=1.0, local_host=LOOPBACK):
    """Status code of an out-of-dialog OPTIONS, or None if nothing answered."""
    with SipSocket(port, host, local_host=local_host) as s:
        ruri = f"sip:ping@{host}:{port}"
        return s.request(build_request("OPTIONS", ruri, local_port=s.port, target=port,
                                       via_host=local_host), timeout)


def cseq_method(message):
    value = header(message, "CSeq") or ""
    return value.split()[-1] if value.split() else None


def sdp_audio_addr(message):
    """(host, port) of the first audio m= line in a message's SDP body, or None."""
    body = message.split(b"\r\n\r\n", 1)[-1].decode("utf-8", "replace")
    host = re.search(r"^c=IN IP4 (\S+)", body, re.M)
    port = re.search(r"^m=audio (\d+) ", body, re.M)
    if not host or not port:
        return None
    return host.group(1), int(port.group(1))


class RawCall:
    """A bare-bones UAC dialog over a SipSocket, for tests that need exact control over each
    message (CANCEL races, hostile RTP during a call). Loopback UDP only, no retransmits."""

    def __init__(self, sock, user, *, sdp=None, contact=None, host=LOOPBACK):
        self.sock = sock
        self.ruri = f"sip:{user}@{host}:{sock.target[1]}"
        self.call_id = f"{_token()}@{LOOPBACK}"
        self.from_tag = _token()
        self.branch = f"z9hG4bK{_token()}"
        self.sdp = sdp
        self.contact = contact
        self.to_tag = None
        self.remote_target = None
        self.final = None
        self.responses = []
        self.cseq = 1  # of the last request that took a number (INVITE, re-INVITE)

    def _via(self, branch=None):
        return f"Via: SIP/2.0/UDP {LOOPBACK}:{self.sock.port};branch={branch or self.branch};rport"

    def _request(self, method, cseq, *, in_dialog=False, branch=None, body=b"", ruri=None):
        to = f"<{self.ruri}>" + (f";tag={self.to_tag}" if in_dialog and self.to_tag else "")
        contact = self.contact or f"<sip:probe@{LOOPBACK}:{self.sock.port}>"
        if isinstance(body, str):
            body = body.encode()
        lines = [f"{method} {ruri or self.ruri} SIP/2.0", self._via(branch), "Max-Forwards: 70",
                 f"From: <sip:probe@{LOOPBACK}:{self.sock.port}>;tag={self.from_tag}",
                 f"To: {to}", f"Call-ID: {self.call_id}", f"CSeq: {cseq} {method}",
                 f"Contact: {contact}"]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body)}")
        return "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n" + body

    def send_invite(self):
        self.sock.send(self._request("INVITE", 1, body=self.sdp or b""))

    def send_cancel(self):
        self.sock.send(self._request("CANCEL", 1))  # same branch as the INVITE: RFC 3261 9.1

    def collect(self, timeout=3.0, until=None):
        msgs = self.sock.receive(timeout, until=until)
        self.responses += msgs
        for m in msgs:
            if cseq_method(m) == "INVITE" and (status_of(m) or 0) >= 200 and self.final is None:
                self.final = m
                to = header(m, "To") or ""
                tag = re.search(r";\s*tag=([^;>\s]+)", to)
                self.to_tag = tag.group(1) if tag else None
                contact = re.search(r"<([^>]+)>", header(m, "Contact") or "")
                self.remote_target = contact.group(1) if contact else self.ruri
        return msgs

    def invite(self, timeout=5.0):
        """Sends the INVITE and returns the final status (None if none came)."""
        self.send_invite()
        self.collect(timeout, until=lambda ms: any(
            cseq_method(m) == "INVITE" and (status_of(m) or 0) >= 200 for m in ms))
        return status_of(self.final) if self.final else None

    def ack(self):
        """ACK the final response: same branch for non-2xx (RFC 3261 17.1.1.3), new for 2xx."""
        code = status_of(self.final)
        if code and code >= 300:
            self.sock.send(self._request("ACK", 1, in_dialog=True))
        else:
            self.sock.send(self._request("ACK", 1, in_dialog=True, branch=f"z9hG4bK{_token()}",
                                         ruri=self.remote_target))

    def reinvite(self, sdp, timeout=5.0):
        """An in-dialog re-INVITE offering `sdp`; ACKs a 2xx. Returns the final status."""
        self.cseq += 1
        cseq = self.cseq
        self.sock.send(self._request("INVITE", cseq, in_dialog=True, body=sdp,
                                     branch=f"z9hG4bK{_token()}", ruri=self.remote_target))

        def is_final(m):
            return (cseq_method(m) == "INVITE" and (status_of(m) or 0) >= 200
                    and re.search(rb"(?im)^CSeq:\s*%d\s+INVITE" % cseq, m) is not None)

        msgs = self.sock.receive(timeout, until=lambda ms: any(is_final(m) for m in ms))
        self.responses += msgs
        finals = [m for m in msgs if is_final(m)]
        code = status_of(finals[0]) if finals else None
        if code and code < 300:
            self.sock.send(self._request("ACK", cseq, in_dialog=True,
                                         branch=f"z9hG4bK{_token()}", ruri=self.remote_target))
        return code

    def bye(self, timeout=5.0):
        self.sock.send(self._request("BYE", self.cseq + 1, in_dialog=True,
                                     branch=f"z9hG4bK{_token()}", ruri=self.remote_target))
        msgs = self.collect(timeout, until=lambda ms: any(cseq_method(m) == "BYE" and
                                                          status_of(m) for m in ms))
        for m in msgs:
            if cseq_method(m) == "BYE" and status_of(m):
                return status_of(m)
        return None

    def media_addr(self):
        return sdp_audio_addr(self.final) if self.final else None
