"""ASP over WebSocket (docs/asp.md) against the real server: an independent client
(harness/asp_client.py, written from docs/asp.md alone) drives the server role; atende's
client role is tested against atende's server role with a SIP caller (test_asp_bridge.py);
the hostile cases are in test_asp_robustness.py."""
import uuid

import pytest

from harness import http_api
from harness.asp_client import AspClient, HandshakeRefused
from harness.asp_server import TOKEN, start_asp_server
from harness.audio import find_phrase, has_tone, make_tone_wav, server_speech_wav
from harness.audiosocket_server import ended_record, labelled_metric, wait_until

pytestmark = pytest.mark.atende_only

ECHO_PROMPT = "Echo test. Speak and you will hear yourself. Press pound to finish."


def test_upgrade_needs_a_token(server_factory, workdir):
    srv = start_asp_server(server_factory, workdir)
    with pytest.raises(HandshakeRefused) as refused:
        AspClient("127.0.0.1", srv.http_port, to="echo").connect()
    assert refused.value.status == 401
    with pytest.raises(HandshakeRefused) as refused:
        AspClient("127.0.0.1", srv.http_port, token="wrong-token-0123456789", to="echo").connect()
    assert refused.value.status == 401
    status, _ = http_api.get(srv.http_base + "/asp")
    assert status == 426, status


def test_echo_session_message_by_message(server_factory, workdir, audiotool):
    srv = start_asp_server(server_factory, workdir)
    c = AspClient("127.0.0.1", srv.http_port, token=TOKEN).connect()
    try:
        caps = c.wait_type("protocol.capabilities")
        assert caps and caps["version"].startswith("1."), c.messages
        assert 8000 in caps["supported_sample_rates"] and 16000 in caps["supported_sample_rates"]
        assert "pcm_s16le" in caps["supported_encodings"]
        assert {"barge_in", "streaming_tts"} <= set(caps["features"])
        c.start_session(rate=8000, to="echo", **{"from": "+5511999990000"})
        started = c.wait_type("session.started")
        assert started and started["status"] == "accepted", c.messages
        assert started["session_id"] == c.session_id
        assert started["negotiated"]["audio"]["sample_rate"] == 8000
        assert started["negotiated"]["audio"]["encoding"] == "pcm_s16le"
        # The prompt is a response: start, audio, end.
        assert c.wait_type("response.start", 10)
        # Keep sending (silence) in real time while the prompt plays.
        c.play_silence(5.0)
        tone = make_tone_wav(workdir / "tone.wav", 1000, 1.5)
        c.play_wav(tone)
        c.send_json({"type": "audio.end"})
        c.play_silence(1.0)
        c.send_json({"type": "dtmf", "digit": "#"})
        ended = c.wait_type("session.ended", 20)
        assert ended, c.types()
        assert c.wait_closed(10)
    finally:
        c.close()
    assert ended["reason"] == "local_hangup", ended
    stats = ended["stats"]
    assert stats["audio_ends"] == 1 and stats["responses"] >= 1, stats
    assert stats["audio_in_ms"] > 5000 and stats["audio_out_ms"] > 3000, stats
    assert c.close_code == 1000, c.close_code
    assert c.types()[0] == "protocol.capabilities" and c.types()[1] == "session.started"
    heard = c.received_wav(workdir / "heard.wav")
    assert has_tone(heard, 1000, min_seconds=0.8), "the echo did not send the tone back"
    if audiotool:
        needle = server_speech_wav(ECHO_PROMPT, workdir / "prompt.wav", audiotool, wpm=165)
        found = find_phrase(needle, heard, audiotool)
        assert found["score"] >= 0.6, found
    rec = ended_record(srv, c.session_id)
    assert rec["leg_kind"] == "asp" and rec["flow"] == "echo", rec
    assert rec["end_reason"] == "local_hangup" and rec["digits"] == "#", rec
    assert rec["from"] == "asp:+5511999990000", rec
    metrics = http_api.get_text(srv.http_base + "/metrics")
    assert labelled_metric(metrics, "atende_asp_connections_total", 'result="accepted"') == 1


def test_session_end_from_the_client_at_16k(server_factory, workdir):
    srv = start_asp_server(server_factory, workdir)
    c = AspClient("127.0.0.1", srv.http_port, token=TOKEN, to="echo").connect()
    try:
        c.wait_type("protocol.capabilities")
        c.start_session(rate=16000)
        started = c.wait_type("session.started")
        assert started["negotiated"]["audio"]["sample_rate"] == 16000
        assert c.wait_type("response.start", 10)
        c.play_silence(1.0)
        ended = c.end_session()
    finally:
        c.close()
    assert ended and ended["reason"] == "hangup", c.messages
    assert c.close_code == 1000
    # 16 kHz frames: 640 bytes each.
    assert c.audio_frames > 0 and len(c.audio) % 640 == 0
    rec = ended_record(srv, c.session_id)
    assert rec["end_reason"] == "hangup", rec


def test_barge_in_stops_the_response(server_factory, workdir):
    """The client says barge_in while the prompt plays: the server ends the response at once
    (response.end interrupted) and sends no more of it."""
    srv = start_asp_server(server_factory, workdir)
    c = AspClient("127.0.0.1", srv.http_port, token=TOKEN, to="echo").connect()
    try:
        c.wait_type("protocol.capabilities")
        c.start_session()
        start = c.wait_type("response.start", 10)
        assert start, c.messages
        c.play_silence(1.0)  # a second of the four-second prompt
        c.send_json({"type": "barge_in"})
        end = c.wait_type("response.end", 10)
        assert end and end["response_id"] == start["response_id"], c.messages
        assert end["interrupted"] is True, end
        sent = c.audio_during[start["response_id"]]
        ended = c.end_session()
    finally:
        c.close()
    # Far less than the whole prompt (about 4 s = 64000 bytes) came.
    assert sent < 3 * 16000, sent
    assert ended["stats"]["barge_ins"] == 1, ended
    metrics = http_api.get_text(srv.http_base + "/metrics")
    assert "atende_asp_barge_ins_total 1" in metrics, metrics


def test_api_call_to_an_asp_agent_and_to_nobody(server_factory, workdir):
    """The client role through POST /api/calls: atende dials its own /asp (the IVR's menu is
    the "caller" the echo agent hears), then URLs where nothing listens (ws://, wss://) fail
    cleanly."""
    from harness.api_client import post
    from harness.ports import free_port
    srv = start_asp_server(server_factory, workdir, asp_client_token=TOKEN)
    url = f"ws://127.0.0.1:{srv.http_port}/asp?to=echo"
    status, reply, _ = post(srv.http_base, "/api/calls", {"to": url, "flow": "ivr"}, TOKEN)
    assert status in (200, 201, 202), (status, reply)
    call_id = reply["id"] if "id" in reply else reply["call_id"]
    assert wait_until(lambda: any(c["leg_kind"] == "asp" and c["direction"] == "inbound"
                                  for c in http_api.get_json(srv.http_base + "/api/calls")), 20)
    status, reply, _ = post(srv.http_base, f"/api/calls/{call_id}/hangup", {}, TOKEN)
    assert status in (200, 202, 204), (status, reply)
    out = ended_record(srv, call_id, 20)
    assert out["leg_kind"] == "asp" and out["direction"] == "outbound" and out["answered_at"], out
    assert out["end_reason"] == "local_hangup", out
    inbound = [c for c in http_api.get_json(srv.http_base + "/api/calls")
               if c["leg_kind"] == "asp" and c["direction"] == "inbound"]
    rec = ended_record(srv, inbound[0]["id"], 20)
    assert rec["flow"] == "echo" and rec["end_reason"] == "hangup", rec

    dead = f"ws://127.0.0.1:{free_port()}/asp"
    status, reply, _ = post(srv.http_base, "/api/calls", {"to": dead, "flow": "ivr"}, TOKEN)
    assert status in (200, 201, 202), (status, reply)
    failed_id = reply["id"] if "id" in reply else reply["call_id"]
    rec = ended_record(srv, failed_id, 20)
    assert rec["end_reason"] == "failed" and not rec["answered_at"], rec
    # wss:// is dialled too (test_asp_wss.py); nothing listening fails it the same way.
    status, reply, _ = post(srv.http_base, "/api/calls",
                            {"to": f"wss://127.0.0.1:{free_port()}/asp", "flow": "ivr"}, TOKEN)
    assert status in (200, 201, 202), (status, reply)
    rec = ended_record(srv, reply["id"] if "id" in reply else reply["call_id"], 20)
    assert rec["end_reason"] == "failed" and not rec["answered_at"], rec


def test_shutdown_ends_sessions_cleanly(server_factory, workdir):
    srv = start_asp_server(server_factory, workdir, drain_seconds=0)
    c = AspClient("127.0.0.1", srv.http_port, token=TOKEN, to="echo").connect()
    c.open_session()
    c.play_silence(0.5)
    srv.stop()
    ended = c.wait_type("session.ended", 10)
    assert ended and ended["reason"] == "shutdown", c.messages
    assert c.wait_closed(10) and c.close_code == 1001, c.close_code
    c.close()
