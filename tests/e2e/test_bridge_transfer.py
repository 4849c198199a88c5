"""Calls with two legs over real peers: a caller bridged to a dialled callee hears the
callee and is heard (a tone from each side arrives at the other: baresip on both ends),
and a blind transfer by SIP REFER to a SIPp UAS that accepts it (202, NOTIFY 200)."""
import time

import pytest

from harness import http_api
from harness.api_client import post
from harness.audio import has_tone, make_tone_wav
from harness.baresip import Baresip, callee
from harness.config import write_config
from harness.sipp import SippUas

pytestmark = pytest.mark.atende_only

TOKEN = "test-token-0123456789abcdef"


def flows_dir(workdir, text):
    d = workdir / "flows"
    d.mkdir(exist_ok=True)
    (d / "test.yaml").write_text(text)
    return d




def test_bridged_call_carries_audio_both_ways(server_factory, workdir):
    b_wav = make_tone_wav(workdir / "b.wav", 600, 6, pad_after_s=20)
    b = callee(workdir, b_wav, user="operator", name="callee", max_seconds=60)
    flows = flows_dir(workdir, f"""
name: connect
voice: {{name: en-us, rate: 165}}
start: call_operator
steps:
  call_operator:
    type: dial
    to: "{b.uri}"
    prompt: Connecting you.
    next: talk
    on_failure: sorry
  talk:
    type: bridge
    on_failure: sorry
  sorry:
    type: hangup
    text: Sorry.
""")
    srv = server_factory(extra_args=["--flows-dir", str(flows)])
    a_wav = make_tone_wav(workdir / "a.wav", 1000, 6, pad_before_s=2, pad_after_s=20)
    a = Baresip(workdir, a_wav, name="caller", user="visitor", max_seconds=60).start()
    try:
        assert a.dial(f"sip:connect@{srv.sip_target}") is not None, a.log()
        assert b.wait_log("Call established", 15), b.log()
        time.sleep(9)  # both tones play through the bridge
        calls = http_api.get_json(srv.http_base + "/api/calls")
        a.hangup()
    finally:
        a.stop()
        b.stop()
    inbound = [c for c in calls if c["direction"] == "inbound"]
    assert inbound, calls
    rec = http_api.wait_call_ended(srv.http_base, inbound[0]["id"], 15)
    legs = rec["legs"]
    assert len(legs) == 1 and legs[0]["direction"] == "outbound", rec
    assert legs[0]["ended_at"], legs  # the caller's hang-up ended the callee's leg too
    assert has_tone(a.received_wav(), 600, min_seconds=2), "the caller did not hear the callee"
    assert has_tone(b.received_wav(), 1000, min_seconds=2), "the callee did not hear the caller"
    assert not has_tone(a.received_wav(), 1000, min_seconds=1.5), "the caller heard itself"


def test_blind_transfer_by_refer(server_factory, workdir):
    uas = SippUas("uas_accept_refer", workdir).start()
    flows = flows_dir(workdir, """
name: handoff
voice: {name: en-us, rate: 165}
start: go
steps:
  go:
    type: transfer
    to: "sip:agent@192.0.2.10"
    prompt: Transferring you now.
    on_failure: failed
  failed:
    type: hangup
    text: The transfer failed.
""")
    cfg = write_config(workdir, api_tokens=[{"name": "tests", "token": TOKEN,
                                             "allow": ["sip:*"]}])
    srv = server_factory(extra_args=["--flows-dir", str(flows), "--config", str(cfg)])
    status, reply, _ = post(srv.http_base, "/api/calls", {"to": uas.uri("1001"),
                                                          "flow": "handoff"}, TOKEN)
    assert status == 202, reply
    rec = http_api.wait_call_ended(srv.http_base, reply["id"], 30)
    result = uas.wait()
    assert result.successful == 1, result.explain()
    statuses = [e["detail"] for e in rec["events"] if e["kind"] == "transfer_status"]
    assert "200" in statuses, rec["events"]
    assert rec["end_reason"] == "local_bye", rec


def test_api_bridges_two_answered_calls(server_factory, workdir):
    """POST /api/calls/{a}/bridge {"with": b}: two callers talking to the echo flow (most
    likely on different media workers) are connected: each then hears the other's tone,
    which only the bridge can carry."""
    cfg = write_config(workdir, api_tokens=[{"name": "tests", "token": TOKEN}])
    srv = server_factory(extra_args=["--config", str(cfg), "--media-threads", "2"])
    a = Baresip(workdir, make_tone_wav(workdir / "a.wav", 1000, 12, pad_before_s=4,
                                       pad_after_s=20), name="a", user="alice").start()
    b = Baresip(workdir, make_tone_wav(workdir / "b.wav", 600, 12, pad_before_s=4,
                                       pad_after_s=20), name="b", user="bob").start()
    try:
        assert a.dial(f"sip:echo@{srv.sip_target}") is not None, a.log()
        assert b.dial(f"sip:echo@{srv.sip_target}") is not None, b.log()
        calls = http_api.wait_calls(
            srv.http_base, lambda c: len([x for x in c if x.get("answered_at")]) == 2, 10)
        by_user = {c["from"].split("@")[0].removeprefix("sip:"): c["id"] for c in calls}
        status, reply, _ = post(srv.http_base, f"/api/calls/{by_user['alice']}/bridge",
                                {"with": by_user["bob"]}, TOKEN)
        assert status == 200, reply
        time.sleep(8)
        live = http_api.get_json(srv.http_base + "/api/live")
        a.hangup()
    finally:
        a.stop()
        b.stop()
    assert len(live) == 1 and live[0]["state"] == "bridged", live
    assert {l["id"] for l in live[0]["legs"]} == set(by_user.values()), live
    assert has_tone(a.received_wav(), 600, min_seconds=2), "alice did not hear bob"
    assert has_tone(b.received_wav(), 1000, min_seconds=2), "bob did not hear alice"
    rec = http_api.wait_call_ended(srv.http_base, by_user["bob"], 15)
    assert rec["end_reason"] == "local_bye", rec  # alice's hang-up ended bob's leg too
