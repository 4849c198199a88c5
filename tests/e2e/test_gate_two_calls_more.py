"""The gate attendant's other answers from the resident: no, and "who is it?" (the question
is repeated) then yes. See test_gate_two_calls.py."""
import pytest

from harness.conversation import recorded
from harness.gate import RESIDENT_AGAIN, RESIDENT_PROMPT, heard, resident_heard_name, run_gate

pytestmark = pytest.mark.atende_only


def test_resident_says_no(server_factory, workdir, audiotool):
    if not audiotool:
        pytest.skip("tools/audiotool is not built")
    rec, wav, resident_wav = run_gate(server_factory, workdir, audiotool,
                                      [(RESIDENT_PROMPT, "no")])
    decision = recorded(rec, "gate_decision")
    assert decision and decision["decision"] == "denied", rec["events"]
    ok, found = heard(audiotool, workdir, wav, "denied")
    assert ok, found
    ok, found = resident_heard_name(audiotool, workdir, resident_wav)
    assert ok, found


def test_resident_asks_who_it_is_then_says_yes(server_factory, workdir, audiotool):
    if not audiotool:
        pytest.skip("tools/audiotool is not built")
    rec, wav, resident_wav = run_gate(server_factory, workdir, audiotool,
                        [(RESIDENT_PROMPT, "who is it"), (RESIDENT_AGAIN, "yes")])
    decision = recorded(rec, "gate_decision")
    assert decision and decision["decision"] == "authorised", rec["events"]
    leg_events = [e["detail"] for e in rec["legs"][0]["events"] if e["kind"] == "step"]
    assert "ask_again" in leg_events, leg_events
    ok, found = heard(audiotool, workdir, wav, "authorised")
    assert ok, found
    ok, found = resident_heard_name(audiotool, workdir, resident_wav)
    assert ok, found
