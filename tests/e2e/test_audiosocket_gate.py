"""The gate attendant (flows/portaria.yaml, seed 004) offline with the visitor over
AudioSocket: a peer behaving as Asterisk's AudioSocket() connects to the visitors' port
(its default flow is portaria) and speaks the visitor's espeak-ng answers in real time;
atende calls the resident (residents.csv's extension 2302) and tells the visitor.

- test_visitor_over_audiosocket_resident_says_yes: the resident is a baresip reached
  through a Kamailio trunk (SIP), answering "yes" to gate_resident.yaml.
- test_both_over_audiosocket_resident_says_no: the resident's number goes to a trunk with
  `transport: audiosocket`, so atende dials it by connecting, as an AudioSocket client, to
  the residents' AudioSocket server (a peer here that answers as Asterisk would, "no").

The residents' listener (gate_resident) is configured too, as seed 004 runs it. Asserts the
slots, the decision in both legs' records, that the visitor heard the outcome and the
resident heard the visitor's recorded name."""
import json
import time

import pytest

import threading

from harness.audiosocket import AudioSocketClient, AudioSocketServer
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


def test_both_over_audiosocket_resident_says_no(server_factory, workdir, audiotool):
    if not audiotool:
        pytest.skip("tools/audiotool is not built")
    resident_wav = timeline(audiotool, workdir, [(RESIDENT_PROMPT, "no")], "resident-mic")
    far = AudioSocketServer()
    resident = {}

    def answer():
        try:
            resident["peer"] = far.accept(timeout=120, mic_wav=resident_wav)
        except OSError as e:
            resident["error"] = e

    accepting = threading.Thread(target=answer, daemon=True)
    accepting.start()
    visitor = None
    try:
        srv, (visitors_port, _residents_port) = start_with_listeners(
            server_factory, workdir, ["portaria", "gate_resident"],
            trunks=[{"name": "residents", "host": "127.0.0.1", "port": far.port,
                     "transport": "audiosocket", "default": True}])
        mic = timeline(audiotool, workdir, VISITOR_PROMPTS, "visitor-mic")
        visitor = AudioSocketClient("127.0.0.1", visitors_port)
        visitor.play_wav(mic)
        visitor.start()
        assert visitor.wait_closed(150), "the gate flow did not end the visit"
        accepting.join(5)
        peer = resident.get("peer")
        assert peer is not None, resident
        assert peer.wait_closed(20), "the resident's connection was not hung up"
    finally:
        if visitor:
            visitor.close()
        if resident.get("peer"):
            resident["peer"].close()
        far.close()
    peer = resident["peer"]
    assert peer.hangup_received, peer.kinds_in
    rec = ended_record(srv, visitor.uuid)
    request = recorded(rec, "gate_request")
    assert request and request["resident_name"] == "Mary Jones", details(rec, "heard")
    decision = recorded(rec, "gate_decision")
    assert decision and decision["decision"] == "denied", rec["events"]
    assert len(rec["legs"]) == 1, rec["legs"]
    leg = rec["legs"][0]
    assert leg["leg_kind"] == "audiosocket" and leg["direction"] == "outbound", leg
    assert leg["to"] == "2302" and leg["answered_at"], leg
    assert ("audiosocket_uuid", peer.uuid) in [(e["kind"], e["detail"]) for e in leg["events"]]
    ok, found = heard(audiotool, workdir, visitor.received_wav(workdir / "visitor.wav"),
                      "denied")
    assert ok, found
    ok, found = resident_heard_name(audiotool, workdir, peer.received_wav(workdir / "res.wav"))
    assert ok, found
