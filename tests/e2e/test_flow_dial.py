"""Flow steps that use a second leg, over SIP: a flow dials a SIPp UAS (a sip: URI, so no
trunk is needed), runs another flow on the answered leg, gets that flow's slots back and
branches on them; a busy callee takes the dial step's own branch after its tries; and a
bridge connects the caller with the answered leg until the caller hangs up."""
import time

import pytest

from harness import http_api
from harness.sipp import SippUas
from harness.baresip import Baresip
from harness import conversation as conv

pytestmark = pytest.mark.atende_only

CALLER = """
name: caller_side
start: call
steps:
  call:
    type: dial
    to: "sip:resident@127.0.0.1:{port}"
    flow: callee_side
    tries: 2
    ring_timeout: 5s
    prompt: Please wait.
    next: by_reply
    on_busy: busy
    on_failure: failed
  by_reply:
    type: route
    routes:
      - {{when: {{reply_decision: authorised}}, goto: got}}
    next: failed
  got:
    type: record
    event: got_reply
    fields: [reply_decision, call]
    next: bye
  bye: {{type: hangup, text: Authorised. Goodbye.}}
  busy: {{type: hangup, text: Busy. Goodbye.}}
  failed: {{type: hangup, text: Failed. Goodbye.}}
"""

# Runs on the dialled leg: no caller input needed (the UAS only echoes audio), it finds a
# constant row so it has a slot to hand back, says one phrase and hangs up.
CALLEE = """
name: callee_side
inputs: [call]
start: find
steps:
  find:
    type: lookup
    table: data/replies.csv
    column: key
    value: "yes"
    into: reply
    next: hello
    on_missing: hello
  hello: {type: hangup, text: Hello resident. Goodbye.}
"""


# Dials the UAS and connects the caller with it; the call ends when either side hangs up.
BRIDGER = """
name: bridger
start: call
steps:
  call:
    type: dial
    to: "sip:desk@127.0.0.1:{port}"
    next: connect
    on_failure: failed
  connect: {{type: bridge, prompt: Connecting you now., on_failure: failed}}
  failed: {{type: hangup, text: Failed. Goodbye.}}
"""


def _flows(tmp_path, port):
    d = tmp_path / "flows"
    (d / "data").mkdir(parents=True)
    (d / "data" / "replies.csv").write_text("key,decision\nyes,authorised\n")
    (d / "caller_side.yaml").write_text(CALLER.format(port=port))
    (d / "callee_side.yaml").write_text(CALLEE)
    (d / "bridger.yaml").write_text(BRIDGER.format(port=port))
    (d / "ivr.yaml").write_text("start: a\nsteps:\n  a: {type: hangup}\n")
    return d


def _call(server_factory, tmp_path, workdir, scenario, flow="caller_side", hold_s=0):
    uas = SippUas(scenario, workdir / "uas", calls=2, timeout_s=40).start()
    server = server_factory(extra_args=["--flows-dir", str(_flows(tmp_path, uas.port))])
    mic = conv.silent_wav(workdir, 30)
    phone = Baresip(workdir, mic, max_seconds=40).start()
    try:
        assert phone.dial(f"sip:{flow}@{server.sip_target}") is not None, phone.log()
        # The caller's own record (each dialled leg has one too, with its flow's events).
        calls = http_api.wait_calls(
            server.http_base, lambda cs: any(c.get("direction") == "inbound" for c in cs), 10)
        call_id = next(c["id"] for c in calls if c.get("direction") == "inbound")
        if hold_s:
            time.sleep(hold_s)
            phone.hangup()
        rec = conv.wait_ended(server, call_id, 30)
    finally:
        phone.stop()
        uas.stop()
    return rec


def test_dial_runs_a_flow_on_the_answered_leg_and_gets_its_slots(server_factory, tmp_path,
                                                                  workdir):
    rec = _call(server_factory, tmp_path, workdir, "uas_answer")
    events = [(e["kind"], e["detail"]) for e in rec["events"]]
    assert rec.get("ended_at"), events
    assert any(k == "dial_result" and d.startswith("answered") for k, d in events), events
    assert any(k == "child_flow" and d.startswith("callee_side on ") for k, d in events), events
    got = conv.recorded(rec, "got_reply")
    assert got == {"reply_decision": "authorised", "call": "answered"}, events
    assert ("hangup", "flow: bye") in events, events


def test_dial_busy_twice_takes_on_busy(server_factory, tmp_path, workdir):
    rec = _call(server_factory, tmp_path, workdir, "uas_busy")
    events = [(e["kind"], e["detail"]) for e in rec["events"]]
    assert rec.get("ended_at"), events
    assert [d for k, d in events if k == "dial_result"] == ["busy 486", "busy 486"], events
    assert ("hangup", "flow: busy") in events, events


def test_bridge_connects_the_caller_until_they_hang_up(server_factory, tmp_path, workdir):
    rec = _call(server_factory, tmp_path, workdir, "uas_answer", flow="bridger", hold_s=5)
    events = [(e["kind"], e["detail"]) for e in rec["events"]]
    assert rec.get("ended_at"), events
    assert any(k == "bridge" for k, _ in events), events
    assert not any(k == "bridge_failed" for k, _ in events), events
    assert rec["end_reason"] == "remote_bye", rec
