"""The gate attendant (flows/portaria.yaml, seed 004) offline with the visitor over
AudioSocket: a peer behaving as Asterisk's AudioSocket() connects to the visitors' port
(its default flow is portaria) and speaks the visitor's espeak-ng answers in real time;
atende calls the resident (residents.csv's extension 2302, through a Kamailio trunk, to a
baresip that answers "yes" to gate_resident.yaml) and tells the visitor. The residents'
AudioSocket port (gate_resident) is configured too, as seed 004 runs it, and must not
disturb the visit. Asserts the slots, the decision in both legs' records, that the visitor
heard the outcome and the resident heard the visitor's recorded name."""
import json
import time

import pytest

from harness.audiosocket import AudioSocketClient
from harness.audiosocket_server import ended_record, start_with_listeners
from harness.baresip import callee
from harness.conversation import details, recorded
from harness.gate import (RESIDENT_PROMPT, VISITOR_PROMPTS, heard, resident_heard_name,
                          timeline)
from harness.kamailio import Kamailio

pytestmark = pytest.mark.atende_only


def test_visitor_over_audiosocket_resident_says_yes(server_factory, workdir, audiotool):
    if not audiotool:
        pytest.skip("tools/audiotool is not built")
    resident_wav = timeline(audiotool, workdir, [(RESIDENT_PROMPT, "yes")], "resident-mic")
    resident = callee(workdir, resident_wav, user="2302", name="resident", max_seconds=120)
    kam = Kamailio(workdir, routes={"2302": resident.uri}).start()
    visitor = None
    try:
        srv, (visitors_port, _residents_port) = start_with_listeners(
            server_factory, workdir, ["portaria", "gate_resident"],
            trunks=[{"name": "pbx", "host": "127.0.0.1", "port": kam.port, "default": True}])
        mic = timeline(audiotool, workdir, VISITOR_PROMPTS, "visitor-mic")
        visitor = AudioSocketClient("127.0.0.1", visitors_port)
        visitor.play_wav(mic)
        visitor.start()
        assert visitor.wait_closed(150), "the gate flow did not end the visit"
        time.sleep(1.0)
    finally:
        if visitor:
            visitor.close()
        resident.stop()
        kam.stop()
    assert visitor.hangup_received, visitor.kinds_in
    rec = ended_record(srv, visitor.uuid)
    assert rec["leg_kind"] == "audiosocket" and rec["flow"] == "portaria", rec
    request = recorded(rec, "gate_request")
    assert request and request["visitor_name"] == "(recorded)", details(rec, "heard")
    assert request["resident_name"] == "Mary Jones", request
    assert request["apartment"] == "302" and request["intent"] == "entrega", request
    decision = recorded(rec, "gate_decision")
    assert decision and decision["decision"] == "authorised", rec["events"]
    assert len(rec["legs"]) == 1, rec["legs"]
    leg = rec["legs"][0]
    assert leg["direction"] == "outbound" and leg["answered_at"], leg
    assert json.loads(details(leg, "gate_decision")[0])["decision"] == "authorised", leg
    ok, found = heard(audiotool, workdir, visitor.received_wav(workdir / "visitor.wav"),
                      "authorised")
    assert ok, found
    ok, found = resident_heard_name(audiotool, workdir, resident.received_wav())
    assert ok, found
