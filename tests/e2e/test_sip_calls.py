"""Signalling against the server with SIPp and a hand-built UAC: the call shapes a carrier
or PBX sends, each checked for the right answer and for a record in the API."""

import pytest

from harness import http_api
from harness.sip_raw import RawCall, SipSocket, cseq_method, status_of
from harness.sipp import run_sipp


def _assert_ok(result):
    assert result.returncode == 0 and result.successful >= 1, result.explain()


def _calls(server):
    return http_api.get_json(server.http_base + "/api/calls")


def _wait_calls(server, predicate, timeout=5.0):
    return http_api.wait_calls(server.http_base, predicate, timeout)


def test_out_of_dialog_options_gets_200(server, workdir):
    _assert_ok(run_sipp("uac_options", server.sip_target, workdir, service="ping"))


def test_echo_call_answered_and_hung_up_over_udp(server, workdir):
    _assert_ok(run_sipp("uac_call", server.sip_target, workdir, duration_ms=1000))


def test_echo_call_over_tcp(server, workdir):
    _assert_ok(run_sipp("uac_call", server.sip_target, workdir, transport="t1",
                        duration_ms=500))


def test_several_calls_in_a_row(server, workdir):
    result = run_sipp("uac_call", server.sip_target, workdir, calls=10, rate=10, limit=5,
                      duration_ms=300)
    assert result.returncode == 0 and result.successful == 10, result.explain()


def test_in_dialog_options_gets_200(server, workdir):
    _assert_ok(run_sipp("uac_options_in_dialog", server.sip_target, workdir))


def test_hold_and_unhold_by_reinvite(server, workdir):
    _assert_ok(run_sipp("uac_hold", server.sip_target, workdir))


@pytest.mark.atende_only
def test_offer_with_only_g729_gets_488(server, workdir):
    result = run_sipp("uac_g729", server.sip_target, workdir)
    _assert_ok(result)
    assert "488" in result.messages, result.explain()


def test_cancel_before_answer_gets_487_or_a_normal_call(server):
    """CANCEL sent right behind the INVITE. A server that answers at once may beat it, so
    both outcomes are correct: 487 for the INVITE (CANCEL 200), or 200 (CANCEL 200/481)
    after which we ACK and BYE. What must never happen: no final answer, or a crash."""
    with SipSocket(server.sip_port) as sock:
        call = RawCall(sock, "ivr", sdp=_pcmu_offer(sock.port + 2))
        call.send_invite()
        call.send_cancel()
        call.collect(5.0, until=lambda ms: any(
            cseq_method(m) == "INVITE" and (status_of(m) or 0) >= 200 for m in ms) and any(
            cseq_method(m) == "CANCEL" and status_of(m) for m in ms))
        cancel_codes = [status_of(m) for m in call.responses if cseq_method(m) == "CANCEL"]
        assert call.final is not None, f"no final answer to the INVITE: {call.responses}"
        final = status_of(call.final)
        assert final in (200, 487), call.final
        assert cancel_codes and cancel_codes[0] in (200, 481), cancel_codes
        call.ack()
        if final == 200:
            assert call.bye() == 200
    server.assert_healthy()


@pytest.mark.atende_only
def test_call_is_recorded_in_the_api(server, workdir):
    _assert_ok(run_sipp("uac_call", server.sip_target, workdir, service="echo",
                        duration_ms=500))
    calls = _wait_calls(server, lambda cs: any(c.get("ended_at") for c in cs))
    assert len(calls) == 1, calls
    record = calls[0]
    for field in ("id", "from", "to", "flow", "started_at", "answered_at", "ended_at",
                  "end_reason", "digits"):
        assert field in record, f"{field} missing from {record}"
    assert "echo" in record["to"]
    assert record["flow"] == "echo"
    assert record["answered_at"] and record["ended_at"]


@pytest.mark.atende_only
def test_metrics_endpoint_is_prometheus_text(server, workdir):
    _assert_ok(run_sipp("uac_call", server.sip_target, workdir, duration_ms=200))
    status, body = http_api.get(server.http_base + "/metrics")
    assert status == 200
    text = body.decode()
    samples = [l for l in text.splitlines() if l and not l.startswith("#")]
    assert samples, text[:500]
    assert all(len(l.rsplit(" ", 1)) == 2 for l in samples), text[:1000]


def _pcmu_offer(rtp_port):
    from harness.sip_raw import simple_sdp
    return simple_sdp(rtp_port)


@pytest.mark.atende_only
def test_cancel_while_ringing_gets_487_and_is_recorded(server_factory, workdir):
    """With --ring-ms the server sends 180 and waits: SIPp's CANCEL then always lands before
    the answer (uac_cancel.xml expects 180, CANCEL 200, INVITE 487, and sends the ACK)."""
    srv = server_factory(extra_args=["--ring-ms", "2000"])
    _assert_ok(run_sipp("uac_cancel", srv.sip_target, workdir, service="ivr", calls=2))
    calls = _wait_calls(srv, lambda cs: len(cs) == 2 and all(c.get("ended_at") for c in cs))
    assert [c["end_reason"] for c in calls] == ["cancelled", "cancelled"], calls
    assert all(c["answered_at"] is None for c in calls), calls
    metrics = http_api.get_text(srv.http_base + "/metrics")
    assert 'atende_calls_total{result="abandoned"} 2' in metrics


def test_delayed_offer_is_answered_with_our_offer_and_media_flows(server, workdir):
    """An INVITE without SDP (many PBXs and carriers send one) gets our offer in the 200;
    the ACK's answer sets up the leg and the echo flow's prompt reaches the caller."""
    r = run_sipp("uac_delayed_offer", server.sip_target, workdir, service="echo", calls=1,
                 duration_ms=3000, extra_args=["-rtp_echo"])
    assert r.returncode == 0, r.explain()
    calls = http_api.wait_calls(server.http_base, lambda c: c and c[0].get("ended_at"), 10)
    rec = http_api.get_json(f"{server.http_base}/api/calls/{calls[0]['id']}")
    assert rec["answered_at"] and rec["end_reason"] == "remote_bye", rec
    answered = [e["detail"] for e in rec["events"] if e["kind"] == "answered"]
    assert answered and answered[0].startswith("PCMU"), rec["events"]


def test_max_call_seconds_ends_a_call_nobody_ends(server_factory, workdir):
    """The echo flow would listen for two minutes; --max-call-seconds 2 hangs it up."""
    srv = server_factory(extra_args=["--max-call-seconds", "2"])
    r = run_sipp("uac_call", srv.sip_target, workdir, service="echo", calls=1,
                 duration_ms=8000, timeout_s=20)
    calls = http_api.wait_calls(srv.http_base, lambda c: c and c[0].get("ended_at"), 15)
    assert calls[0]["end_reason"] == "max_duration", calls
    assert calls[0]["duration_ms"] < 6000, calls
    assert r.returncode != 0  # SIPp's own BYE found the call gone
