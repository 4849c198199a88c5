"""The gate attendant, whole (seed 004), offline, over two real phones: the visitor says
their name (recorded, not recognised), whom they visit, the apartment and why; atende calls the resident (residents.csv's
extension through a Kamailio trunk to a second baresip), asks "do you authorise?", and tells
the visitor. Asserts what the visitor heard, that the resident heard the visitor's recorded
name inside the question, and the linked records (harness/gate.py).
More cases: test_gate_two_calls_more.py."""
import json

import pytest

from harness.conversation import details, recorded
from harness.gate import RESIDENT_PROMPT, heard, resident_heard_name, run_gate

pytestmark = pytest.mark.atende_only


def test_resident_says_yes(server_factory, workdir, audiotool):
    if not audiotool:
        pytest.skip("tools/audiotool is not built")
    rec, wav, resident_wav = run_gate(server_factory, workdir, audiotool,
                                      [(RESIDENT_PROMPT, "yes")])
    # The name is recorded, not recognised: the slot says so, the clip went to the resident.
    assert any(d.startswith("visitor_name ") for d in details(rec, "captured")), rec["events"]
    request = recorded(rec, "gate_request")
    assert request and request["visitor_name"] == "(recorded)", request
    assert request and request["resident_name"] == "Mary Jones", details(rec, "heard")
    assert request["apartment"] == "302" and request["intent"] == "entrega", request
    decision = recorded(rec, "gate_decision")
    assert decision and decision["decision"] == "authorised", rec["events"]
    # The resident's call is a leg of the same session, with its own decision event.
    assert len(rec["legs"]) == 1, rec["legs"]
    leg = rec["legs"][0]
    assert leg["direction"] == "outbound" and leg["answered_at"], leg
    assert json.loads(details(leg, "gate_decision")[0])["decision"] == "authorised", leg
    ok, found = heard(audiotool, workdir, wav, "authorised")
    assert ok, found
    ok, found = resident_heard_name(audiotool, workdir, resident_wav)
    assert ok, found


def test_resident_does_not_answer(server_factory, workdir, audiotool):
    if not audiotool:
        pytest.skip("tools/audiotool is not built")
    rec, wav, _ = run_gate(server_factory, workdir, audiotool, [], answers=False)
    assert recorded(rec, "gate_request"), rec["events"]
    assert recorded(rec, "gate_decision") is None
    # Two tries of 10 s, as the seed asks; both recorded as unanswered legs.
    assert len(rec["legs"]) == 2, rec["legs"]
    assert all(l["end_reason"] == "no_answer" for l in rec["legs"]), rec["legs"]
    ok, found = heard(audiotool, workdir, wav, "not_answering")
    assert ok, found
