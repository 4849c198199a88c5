"""The gate attendant (flows/portaria.yaml) fully offline over SIP: a real softphone
(baresip) answers each question with espeak-ng speech, atende hears it through the WebRTC
VAD, the turn detector and pocketsphinx in grammar mode, records the visitor's name (not
recognised: kept as audio), fills the slots (whom, apartment, why), confirms, records the request and calls the resident. The test server has no trunk,
so that call fails and the visitor is told the resident is not answering.

The caller's microphone is one WAV with each answer placed after the question it answers
(harness/gate.py's VISITOR_PROMPTS: question lengths measured with the server's own
synthesis; each answer waits for the end of turn, about 0.6 s of silence, and recognition). Answers that come early barge in on the
prompt, which the flow also handles."""
import json
import time

import pytest

from harness import http_api
from harness.baresip import Baresip
from harness.gate import VISITOR_PROMPTS, timeline

pytestmark = pytest.mark.atende_only

CALL_SECONDS = 60


def test_gate_attendant_collects_whom_apartment_and_why_offline(server, workdir, audiotool):
    if not audiotool:
        pytest.skip("tools/audiotool is not built")
    mic = timeline(audiotool, workdir, VISITOR_PROMPTS, "visitor-mic")
    phone = Baresip(workdir, mic, max_seconds=75).start()
    try:
        assert phone.dial(f"sip:gate@{server.sip_target}") is not None, phone.log()
        deadline = time.monotonic() + CALL_SECONDS
        calls = []
        while time.monotonic() < deadline:  # the flow hangs up by itself when done
            calls = http_api.get_json(server.http_base + "/api/calls")
            if calls and calls[0].get("ended_at"):
                break
            time.sleep(0.5)
    finally:
        phone.stop()

    assert len(calls) == 1 and calls[0]["flow"] == "portaria", calls
    assert calls[0].get("ended_at"), f"the flow did not finish the call: {calls[0]}"
    record = http_api.get_json(f"{server.http_base}/api/calls/{calls[0]['id']}")
    events = record["events"]
    heard = [e["detail"] for e in events if e["kind"] == "heard"]
    requests = [json.loads(e["detail"]) for e in events if e["kind"] == "gate_request"]
    assert requests, f"no gate_request recorded; heard {heard}; events {events}"
    slots = requests[0]
    assert slots["visitor_name"] == "(recorded)", slots
    assert any(e["kind"] == "captured" and e["detail"].startswith("visitor_name ")
               for e in events), events
    assert slots["resident_name"] == "Mary Jones", slots
    assert slots["apartment"] == "302", slots
    assert slots["intent"] == "entrega", slots
    kinds = [(e["kind"], e["detail"]) for e in events]
    assert ("dial", "2302 try 1 of 2") in kinds, kinds
    assert ("hangup", "flow: not_answering") in kinds, kinds
    assert record["end_reason"] in ("local_bye", "remote_bye"), record
