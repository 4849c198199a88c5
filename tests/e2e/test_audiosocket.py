"""Asterisk AudioSocket (docs/audiosocket.md) against the real server: a Python peer that
behaves as Asterisk's AudioSocket() does byte for byte (harness/audiosocket.py: UUID first,
20 ms slin frames in real time, DTMF, hang-up) drives the echo test and the IVR menu; the
UUID -> flow map set through the API; 16 kHz audio (type 0x12); and atende's client role
dialling an AudioSocket server."""
import uuid

import pytest

from harness import http_api
from harness.api_client import post
from harness.audio import has_tone, make_tone_wav, find_phrase, server_speech_wav
from harness.audiosocket import AUDIO, HANGUP, AudioSocketClient, AudioSocketServer
from harness.audiosocket_server import (TOKEN, ended_record, labelled_metric,
                                       start_with_listeners, wait_until)

pytestmark = pytest.mark.atende_only

ECHO_PROMPT = "Echo test. Speak and you will hear yourself. Press pound to finish."
SALES = ("You chose sales. Our sales team is not available right now. Please call again "
         "during business hours.")


def call_record(srv, call_id, timeout=10.0):
    return ended_record(srv, call_id, timeout)


def test_echo_over_audiosocket_flow_from_the_api(server_factory, workdir, audiotool):
    srv, (port,) = start_with_listeners(server_factory, workdir, ["ivr"])
    call_uuid = str(uuid.uuid4())
    body = {"uuid": call_uuid, "flow": "echo", "variables": {"caller": "test"}}
    status, reply, _ = post(srv.http_base, "/api/audiosocket/sessions", body)
    assert status == 401, (status, reply)  # a write: the token is required
    status, reply, _ = post(srv.http_base, "/api/audiosocket/sessions", {**body, "flow": "nope"},
                            TOKEN)
    assert status == 400, (status, reply)
    status, reply, _ = post(srv.http_base, "/api/audiosocket/sessions", body, TOKEN)
    assert status == 201 and reply["flow"] == "echo", (status, reply)

    peer = AudioSocketClient("127.0.0.1", port, call_uuid).start()
    try:
        # The prompt (about 4 s), then a tone that must come back.
        assert wait_until(lambda: peer.received_seconds() > 5.0, 20), peer.kinds_in
        tone = make_tone_wav(workdir / "tone.wav", 1000, 1.5)
        peer.play_wav(tone)
        assert wait_until(lambda: peer.received_seconds() > 8.0, 20)
        peer.dtmf("#")
        assert peer.wait_closed(20), "the flow did not hang up after '#'"
    finally:
        peer.close()
    assert peer.hangup_received and peer.kinds_in[-1] == HANGUP, peer.kinds_in
    assert set(peer.kinds_in) <= {AUDIO, HANGUP}, peer.kinds_in
    heard = peer.received_wav(workdir / "heard.wav")
    assert has_tone(heard, 1000, min_seconds=0.8), "the echo did not send the tone back"
    if audiotool:
        needle = server_speech_wav(ECHO_PROMPT, workdir / "prompt.wav", audiotool, wpm=165)
        found = find_phrase(needle, heard, audiotool)
        assert found["score"] >= 0.6, found

    rec = call_record(srv, call_uuid)
    assert rec["leg_kind"] == "audiosocket" and rec["flow"] == "echo", rec
    assert rec["id"] == call_uuid and rec["direction"] == "inbound", rec
    assert rec["end_reason"] == "local_hangup" and rec["digits"] == "#", rec
    assert rec["answered_at"], rec
    metrics = http_api.get_text(srv.http_base + "/metrics")
    assert labelled_metric(metrics, "atende_audiosocket_connections_total",
                           'result="accepted"') == 1, metrics


def test_menu_choice_by_dtmf_on_the_listeners_default_flow(server_factory, workdir, audiotool):
    srv, (port,) = start_with_listeners(server_factory, workdir, ["ivr"])
    peer = AudioSocketClient("127.0.0.1", port).start()
    try:
        assert wait_until(lambda: peer.received_seconds() > 2.0, 20)
        peer.dtmf("1")  # sales: a sentence, then goodbye and hang-up
        assert peer.wait_closed(60), "the menu did not end the call"
    finally:
        peer.close()
    assert peer.hangup_received, peer.kinds_in
    rec = call_record(srv, peer.uuid)
    assert rec["flow"] == "ivr" and rec["digits"] == "1", rec
    assert rec["end_reason"] == "local_hangup", rec
    if audiotool:
        needle = server_speech_wav(SALES, workdir / "sales.wav", audiotool, wpm=165)
        found = find_phrase(needle, peer.received_wav(workdir / "heard.wav"), audiotool)
        assert found["score"] >= 0.6, found


def test_16khz_audio_is_answered_in_16khz(server_factory, workdir):
    srv, (port,) = start_with_listeners(server_factory, workdir, ["echo"])
    peer = AudioSocketClient("127.0.0.1", port, rate=16000, kind=0x12).start()
    try:
        assert wait_until(lambda: peer.frames_in > 300, 20)  # the prompt (about 4 s) first
        tone = make_tone_wav(workdir / "tone16.wav", 1000, 1.5, rate=16000)
        peer.play_wav(tone)
        assert wait_until(lambda: peer.frames_in > 550, 30)
        peer.hangup()
        assert peer.wait_closed(10)
    finally:
        peer.close()
    # After its first frame the server speaks the peer's format (0x12: 640-byte frames).
    assert 0x12 in peer.kinds_in, peer.kinds_in
    assert has_tone(peer.received_wav(workdir / "heard16.wav"), 1000, min_seconds=0.8)
    rec = call_record(srv, peer.uuid)
    assert rec["end_reason"] == "hangup", rec


def test_client_role_api_call_to_an_audiosocket_server(server_factory, workdir):
    srv, _ = start_with_listeners(server_factory, workdir, ["echo"])
    far = AudioSocketServer()
    try:
        status, reply, _ = post(srv.http_base, "/api/calls",
                                {"to": f"audiosocket:127.0.0.1:{far.port}", "flow": "ivr"}, TOKEN)
        assert status == 202, (status, reply)
        call_id = reply["id"]
        peer = far.accept(timeout=20)
        try:
            uuid.UUID(peer.uuid)  # atende sent a UUID first, as Asterisk would
            assert wait_until(lambda: peer.received_seconds() > 2.0, 20)
            peer.dtmf("1")
            assert peer.wait_closed(60), "the menu did not end the call"
        finally:
            peer.close()
        assert peer.hangup_received, peer.kinds_in
    finally:
        far.close()
    rec = call_record(srv, call_id)
    assert rec["leg_kind"] == "audiosocket" and rec["direction"] == "outbound", rec
    assert rec["digits"] == "1" and rec["end_reason"] == "local_hangup", rec
    kinds = [(e["kind"], e["detail"]) for e in rec["events"]]
    assert ("audiosocket_uuid", peer.uuid) in kinds, kinds
    # Unreachable server: the call fails cleanly.
    status, reply, _ = post(srv.http_base, "/api/calls",
                            {"to": "audiosocket:127.0.0.1:1", "flow": "ivr"}, TOKEN)
    assert status == 202, (status, reply)
    rec = call_record(srv, reply["id"], timeout=20)
    assert rec["end_reason"] == "failed", rec
