"""Triage over SIP, fully offline: the caller says why they call (espeak-ng speech heard by
pocketsphinx in grammar mode) and is routed to that reason's queue; a reason typed that
the flow does not know is asked once more and then goes to the general queue. The store
must hold a transfer_request with the queue and its extension; the flow then dials the
queue's extension, which fails here (the test server has no trunk), so the caller hears
that nobody can take the call and the call ends."""
import pytest

from harness import conversation as conv
from harness.baresip import Baresip

pytestmark = pytest.mark.atende_only

REASON = ("Hello, you have reached Acme. In a few words, what is your call about? Billing, "
          "technical support, sales, or cancel? You can also press 1, 2, 3 or 4.")


def test_triage_spoken_reason_routes_to_its_queue(server, workdir, audiotool):
    if not audiotool:
        pytest.skip("tools/audiotool is not built")
    # Just after the question (a long answer would also barge in on it).
    start = 0.3 + conv.seconds(audiotool, workdir, REASON, wpm=160) + 1.0
    mic = conv.timeline_wav(audiotool, workdir, [(start, "technical support")],
                            total_seconds=start + 20)
    phone = Baresip(workdir, mic, max_seconds=int(start) + 40).start()
    try:
        assert phone.dial(f"sip:triage@{server.sip_target}") is not None, phone.log()
        call_id = conv.current_call(server)
        rec = conv.wait_ended(server, call_id, start + 20)
    finally:
        phone.stop()
    events = [(e["kind"], e["detail"]) for e in rec["events"]]
    assert rec["flow"] == "triage", rec
    assert rec.get("ended_at"), events
    transfer = conv.recorded(rec, "transfer_request")
    assert transfer, events
    assert transfer["reason"] == "support", transfer
    assert transfer["queue_queue"] == "Technical support", transfer
    assert transfer["queue_extension"] == "2002", transfer
    assert ("dial", "2002 try 1 of 1") in events, events
    assert ("hangup", "flow: goodbye") in events, events
    assert rec["end_reason"] in ("local_bye", "remote_bye"), rec


def test_triagem_unknown_reason_twice_goes_to_the_general_queue(server, workdir):
    mic = conv.silent_wav(workdir, 60)
    phone = Baresip(workdir, mic, max_seconds=90).start()
    try:
        assert phone.dial(f"sip:triagem@{server.sip_target}") is not None, phone.log()
        call_id = conv.current_call(server)
        conv.wait_event(server, call_id, "step", "reason", timeout=30)
        phone.send_digits("9")
        conv.wait_event(server, call_id, "invalid", "9", timeout=30)
        phone.send_digits("9")
        rec = conv.wait_ended(server, call_id, 40)
    finally:
        phone.stop()
    events = [(e["kind"], e["detail"]) for e in rec["events"]]
    assert rec.get("ended_at"), events
    assert ("failure", "reason") in events, events
    transfer = conv.recorded(rec, "transfer_request")
    assert transfer and transfer["queue_extension"] == "2000", events
    assert "reason" not in transfer, transfer
    assert ("dial", "2000 try 1 of 1") in events, events
    assert ("hangup", "flow: goodbye") in events, events
    assert rec["end_reason"] in ("local_bye", "remote_bye"), rec
