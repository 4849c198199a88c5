"""Allow and Supported list only what atende handles (src/sip/sip_capabilities.h): in an
OPTIONS answer, in the 200 OK to an INVITE, and in the INVITEs we send. sofia's nua would
otherwise advertise REFER, SUBSCRIBE, MESSAGE, INFO, PRACK, UPDATE and 100rel."""
import re

import pytest

from harness import http_api
from harness.api_client import post
from harness.config import write_config
from harness.sip_raw import RawCall, SipSocket, build_request, header, simple_sdp, status_of
from harness.sipp import SippUas

pytestmark = pytest.mark.atende_only

# REGISTER is there only so the access rules see it: it is always refused (403).
ALLOW = {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "NOTIFY", "REGISTER"}
SUPPORTED = {"timer"}
TOKEN = "test-token-0123456789abcdef"


def _tokens(value):
    return {t.strip().upper() if t.strip().isalpha() else t.strip()
            for t in (value or "").split(",") if t.strip()}


def _check(message, what):
    allow = header(message, "Allow")
    supported = header(message, "Supported") or header(message, "k")
    assert allow is not None, f"{what}: no Allow header\n{message[:1500]!r}"
    assert _tokens(allow) == ALLOW, f"{what}: Allow: {allow}"
    assert {t.lower() for t in _tokens(supported)} == SUPPORTED, f"{what}: Supported: {supported}"


def test_options_answer_lists_only_what_we_handle(server):
    with SipSocket(server.sip_port) as sock:
        ruri = f"sip:ping@{sock.target[0]}:{sock.target[1]}"
        sock.send(build_request("OPTIONS", ruri, local_port=sock.port, target=sock.target))
        msgs = sock.receive(5.0, until=lambda ms: any((status_of(m) or 0) >= 200 for m in ms))
        finals = [m for m in msgs if (status_of(m) or 0) >= 200]
        assert finals and status_of(finals[0]) == 200, msgs
        _check(finals[0], "OPTIONS 200")


def test_invite_answer_lists_only_what_we_handle(server):
    with SipSocket(server.sip_port) as sock:
        call = RawCall(sock, "echo", sdp=simple_sdp(40004))
        assert call.invite() == 200
        call.ack()
        _check(call.final, "INVITE 200")
        assert call.bye() == 200


def test_refer_is_refused_as_not_allowed(server):
    """REFER is not in Allow, and the stack says so: 405 (or 403/501), never 202."""
    with SipSocket(server.sip_port) as sock:
        call = RawCall(sock, "echo", sdp=simple_sdp(40006))
        assert call.invite() == 200
        call.ack()
        call.cseq += 1
        sock.send(call._request("REFER", call.cseq, in_dialog=True, ruri=call.remote_target,
                                branch="z9hG4bKrefer1").replace(
            b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\r\nRefer-To: <sip:x@127.0.0.1>\r\n"))
        msgs = sock.receive(5.0, until=lambda ms: any(
            b"REFER" in (header(m, "CSeq") or "").encode() and (status_of(m) or 0) >= 200
            for m in ms))
        finals = [m for m in msgs if (status_of(m) or 0) >= 200 and
                  "REFER" in (header(m, "CSeq") or "")]
        assert finals and status_of(finals[0]) in (405, 403, 501), msgs
        assert call.bye() == 200


def test_our_invite_lists_only_what_we_handle(server_factory, workdir):
    uas = SippUas("uas_busy", workdir).start()
    config = write_config(workdir, api_tokens=[{"name": "tests", "token": TOKEN,
                                                "allow": ["sip:*"], "rate_per_minute": 600,
                                                "burst": 100}])
    srv = server_factory(extra_args=["--config", str(config)])
    status, reply, _ = post(srv.http_base, "/api/calls", {"to": uas.uri("1001"), "flow": "echo"},
                            TOKEN)
    assert status == 202, (status, reply)
    http_api.wait_call_ended(srv.http_base, reply["id"], 20)
    result = uas.wait()
    # SIPp's message trace: the INVITE it received, up to the blank line after its headers.
    text = result.messages.replace("\r\n", "\n")
    invite = re.search(r"^INVITE sip:.*?SIP/2\.0\n(.*?)\n\s*\n", text, re.S | re.M)
    assert invite, result.explain()
    head = "INVITE sip:x SIP/2.0\r\n" + "\r\n".join(
        line.strip() for line in invite.group(1).split("\n"))
    _check(head.encode() + b"\r\n\r\n", "our INVITE")
