"""Dead peers: calls whose far end vanished end by themselves, each with its reason in the
store (docs/media.md "Dead peers", docs/sip.md "Session timers").

- a caller killed mid-call (SIGKILL: no BYE, its RTP stops) ends at the flow's RTP timeout
  with end_reason rtp_timeout, while a caller whose RTP flows is never cut;
- a caller that put us on hold (a=sendonly) and sends nothing is not ended;
- a session timer the caller refreshes keeps the call; one it lets lapse ends it with
  session_timer;
- a 200 OK never ACKed ends the call with no_ack.
Real peers: SIPp (its -rtp_echo sends our RTP back, as a live phone would send its own) and
a hand-built UAC for the missing ACK."""
import pathlib
import re
import signal
import time

import pytest

from harness import http_api
from harness.sip_raw import RawCall, SipSocket, header, simple_sdp, status_of
from harness.sipp import Sipp, run_sipp

pytestmark = pytest.mark.atende_only

RTP_TIMEOUT_S = 3


@pytest.fixture
def short_timeout_flows(tmp_path):
    """A flows folder whose echo flow ends calls after RTP_TIMEOUT_S without RTP."""
    source = pathlib.Path(__file__).resolve().parents[2] / "flows" / "echo.yaml"
    folder = tmp_path / "flows"
    folder.mkdir()
    text = source.read_text()
    (folder / "echo.yaml").write_text(
        text.replace("start: echo\n", f"start: echo\nrtp_timeout: {RTP_TIMEOUT_S}s\n", 1))
    assert f"rtp_timeout: {RTP_TIMEOUT_S}s" in (folder / "echo.yaml").read_text()
    return folder


def _config(tmp_path, **keys):
    path = tmp_path / "atende.yaml"
    path.write_text("".join(f"{k}: {v}\n" for k, v in keys.items()))
    return str(path)


def _wait_answered(srv, timeout=15.0):
    calls = http_api.wait_calls(srv.http_base, lambda c: bool(c) and bool(c[0].get("answered_at")),
                                timeout)
    assert calls and calls[0].get("answered_at"), calls
    return calls[0]["id"]


def _record(srv, call_id):
    return http_api.get_json(f"{srv.http_base}/api/calls/{call_id}")


def test_killed_caller_ends_at_rtp_timeout(server_factory, workdir, short_timeout_flows):
    srv = server_factory(extra_args=["--flows-dir", str(short_timeout_flows)])
    caller = Sipp("uac_call", srv.sip_target, workdir, service="echo", duration_ms=120000,
                  timeout_s=150, extra_args=["-rtp_echo"], tag="doomed").start()
    try:
        call_id = _wait_answered(srv)
        # While its RTP flows the call lives well past the timeout.
        time.sleep(RTP_TIMEOUT_S * 2.5)
        rec = _record(srv, call_id)
        assert not rec.get("ended_at"), f"a live call was ended: {rec}"
        caller.proc.send_signal(signal.SIGKILL)  # no BYE, no more RTP
        caller.proc.wait(10)
        rec = http_api.wait_call_ended(srv.http_base, call_id, 30)
    finally:
        if caller.proc.poll() is None:
            caller.proc.kill()
    assert rec["end_reason"] == "rtp_timeout", rec
    kinds = [e["kind"] for e in rec["events"]]
    assert "rtp_timeout" in kinds, rec["events"]
    srv.assert_healthy()


def test_call_on_hold_is_not_ended_by_rtp_timeout(server_factory, workdir, short_timeout_flows):
    """uac_hold_silent.xml: re-INVITE a=sendonly, then no RTP and no RTCP for three times
    the timeout, then BYE, which must be answered 200 (the call was still up)."""
    srv = server_factory(extra_args=["--flows-dir", str(short_timeout_flows)])
    r = run_sipp("uac_hold_silent", srv.sip_target, workdir, service="echo",
                 duration_ms=RTP_TIMEOUT_S * 3000, timeout_s=60)
    assert r.returncode == 0 and r.successful == 1, r.explain()
    calls = http_api.wait_calls(srv.http_base, timeout=10)
    assert calls[0]["end_reason"] == "remote_bye", calls
    srv.assert_healthy()


def test_session_timer_refreshed_keeps_the_call(server_factory, workdir, tmp_path):
    """Session-Expires 10 s, refreshed every 3 s by re-INVITE for 18 s: the call lasts,
    each 200 carries Session-Expires with refresher=uac, and the caller's BYE ends it."""
    srv = server_factory(extra_args=["--config", _config(tmp_path, session_min_se=5,
                                                         rtp_timeout_seconds=0)])
    r = run_sipp("uac_session_timer", srv.sip_target, workdir, service="echo",
                 duration_ms=3000, timeout_s=60, substitutions={"SE": 10})
    assert r.returncode == 0 and r.successful == 1, r.explain()
    calls = http_api.wait_calls(srv.http_base, timeout=10)
    assert calls[0]["end_reason"] == "remote_bye", calls
    assert calls[0]["duration_ms"] > 15000, calls
    srv.assert_healthy()


def test_session_timer_lapse_ends_the_call(server_factory, workdir, tmp_path):
    """Session-Expires 10 s and no refresh: the server sends BYE before it expires
    (RFC 4028 10) and records session_timer."""
    srv = server_factory(extra_args=["--config", _config(tmp_path, session_min_se=5,
                                                         rtp_timeout_seconds=0)])
    r = run_sipp("uac_session_timer_lapse", srv.sip_target, workdir, service="echo",
                 timeout_s=60, substitutions={"SE": 10})
    assert r.returncode == 0 and r.successful == 1, r.explain()
    calls = http_api.wait_calls(srv.http_base, timeout=10)
    assert calls[0]["end_reason"] == "session_timer", calls
    srv.assert_healthy()


def test_session_interval_below_min_se_gets_422(server, workdir):
    """The default Min-SE is 90 s: a 10 s Session-Expires is refused with 422 and Min-SE."""
    with SipSocket(server.sip_port) as sock:
        call = RawCall(sock, "echo", sdp=simple_sdp(40000))
        sock.send(call._request("INVITE", 1, body=call.sdp).replace(
            b"Max-Forwards: 70\r\n",
            b"Max-Forwards: 70\r\nSupported: timer\r\nSession-Expires: 10\r\n"))
        call.collect(5.0, until=lambda ms: any((status_of(m) or 0) >= 200 for m in ms))
        assert call.final is not None and status_of(call.final) == 422, call.responses
        assert re.search(r"^\s*\d+", header(call.final, "Min-SE") or ""), call.final
        call.ack()
    server.assert_healthy()


def _reply_200(sock, request):
    """A 200 to a request the server sent us (its BYE): Via, From, To, Call-ID, CSeq copied."""
    lines = ["SIP/2.0 200 OK"]
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        for line in request.decode("utf-8", "replace").split("\r\n"):
            if line.lower().startswith(name.lower() + ":"):
                lines.append(line)
    lines.append("Content-Length: 0")
    sock.send(("\r\n".join(lines) + "\r\n\r\n").encode())


def test_missing_ack_ends_the_call_with_no_ack(server):
    """A UAC that never ACKs the 200: after timer H (32 s) the server gives up with a BYE and
    records no_ack (not rtp_timeout: the RTP timeout waits for the ACK)."""
    with SipSocket(server.sip_port) as sock:
        call = RawCall(sock, "echo", sdp=simple_sdp(40002))
        assert call.invite() == 200
        # No ACK. The 200 is retransmitted; then the BYE comes.
        msgs = sock.receive(60.0, until=lambda ms: any(m.startswith(b"BYE ") for m in ms))
        byes = [m for m in msgs if m.startswith(b"BYE ")]
        assert byes, f"no BYE after the missing ACK: {[m[:40] for m in msgs]}"
        _reply_200(sock, byes[0])
    calls = http_api.wait_calls(server.http_base, timeout=10)
    assert calls[0]["end_reason"] == "no_ack", calls
    server.assert_healthy()
