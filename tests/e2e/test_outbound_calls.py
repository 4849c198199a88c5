"""atende places calls (POST /api/calls) to real SIP peers: SIPp UASes that answer, are
busy, never answer, or answer with early media first, straight to a sip: URI and through a
Kamailio proxy that asks for proxy authentication. Each outcome lands in the record with
its SIP status."""
import pytest

from harness import http_api
from harness.api_client import post
from harness.config import trunk, write_config
from harness.kamailio import Kamailio
from harness.sipp import SippUas

pytestmark = pytest.mark.atende_only

TOKEN = "test-token-0123456789abcdef"


def api_config(workdir, **extra):
    return write_config(workdir, api_tokens=[{"name": "tests", "token": TOKEN,
                                              "allow": ["sip:*", "1xxx", "+55*"],
                                              "rate_per_minute": 600, "burst": 100}],
                        **extra)


def place(server, **body):
    status, reply, _ = post(server.http_base, "/api/calls", body, TOKEN)
    assert status == 202, (status, reply)
    return reply["id"]




def test_answered_call_runs_the_flow_and_is_recorded(server_factory, workdir):
    uas = SippUas("uas_answer", workdir, ring_ms=500).start()
    srv = server_factory(extra_args=["--config", str(api_config(workdir))])
    call_id = place(srv, to=uas.uri("1001"), flow="time")
    # The speaking clock says the time and hangs up.
    rec = http_api.wait_call_ended(srv.http_base, call_id, 30)
    result = uas.wait()
    assert result.successful == 1, result.explain()
    assert rec["direction"] == "outbound", rec
    assert rec["answered_at"] and rec["end_reason"] == "local_bye", rec
    kinds = [e["kind"] for e in rec["events"]]
    assert "dial" in kinds and "progress" in kinds and "answered" in kinds, kinds
    assert rec["flow"] == "time" and rec["session_id"] == call_id, rec


@pytest.mark.parametrize("scenario,reason,status", [("uas_busy", "busy", 486),
                                                    ("uas_no_answer", "no_answer", 487)])
def test_unanswered_outcomes_are_recorded_with_their_status(server_factory, workdir, scenario,
                                                             reason, status):
    uas = SippUas(scenario, workdir).start()
    srv = server_factory(extra_args=["--config", str(api_config(workdir))])
    call_id = place(srv, to=uas.uri("1001"), flow="echo", ring_timeout=2)
    rec = http_api.wait_call_ended(srv.http_base, call_id, 20)
    assert rec["end_reason"] == reason and rec["sip_status"] == status, rec
    assert rec["answered_at"] is None, rec
    assert uas.wait().returncode == 0


def test_unreachable_peer(server_factory, workdir):
    from harness.ports import free_port
    srv = server_factory(extra_args=["--config", str(api_config(workdir))])
    closed = free_port()
    call_id = place(srv, to=f"sip:1001@127.0.0.1:{closed};transport=tcp", flow="echo")
    rec = http_api.wait_call_ended(srv.http_base, call_id, 40)
    assert rec["end_reason"] == "unreachable", rec
    assert rec["answered_at"] is None


def test_through_kamailio_with_proxy_auth_and_early_media(server_factory, workdir):
    uas = SippUas("uas_early_media", workdir, early_ms=1500).start()
    kam = Kamailio(workdir, users={"atende": "trunk-password-1"}, downstream=("127.0.0.1", uas.port),
                   invite_auth=True).start()
    try:
        cfg = api_config(workdir, trunks=[trunk("carrier", kam, user="atende",
                                                password="trunk-password-1", default=True)])
        srv = server_factory(extra_args=["--config", str(cfg)])
        call_id = place(srv, to="1001", flow="time")
        rec = http_api.wait_call_ended(srv.http_base, call_id, 30)
        assert rec["answered_at"] and rec["end_reason"] == "local_bye", rec
        details = [e["detail"] for e in rec["events"] if e["kind"] == "progress"]
        assert "183" in details, rec["events"]
        dial = [e["detail"] for e in rec["events"] if e["kind"] == "dial"]
        assert dial and "via carrier" in dial[0], dial
        result = uas.wait()
        assert result.successful == 1, result.explain()
    finally:
        kam.stop()


def test_no_trunk_for_a_number_is_a_clear_400(server_factory, workdir):
    srv = server_factory(extra_args=["--config", str(api_config(workdir))])
    status, reply, _ = post(srv.http_base, "/api/calls", {"to": "1001", "flow": "echo"}, TOKEN)
    assert status == 400 and "trunk" in reply["error"], (status, reply)
    assert http_api.get_json(srv.http_base + "/api/calls") == []
