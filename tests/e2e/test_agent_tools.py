"""The agent's flow-defined HTTP tools and streamed HTTP speech, over SIP with baresip, the
fake OpenAI server (tests/fake_openai) as LLM, transcription, speech and tool endpoint.

1. The restaurant persona (personas/restaurante.yaml) has check_availability pointing at
   ${ATENDE_RESTAURANT_API}: the scripted LLM calls it, the tool endpoint receives the JSON
   arguments, the second completion request carries the tool result, and its answer is
   heard and stored as the turn.
2. With `tts_engine: http` the answer's sentence streams: the fake sends its first 2 s of
   PCM at once and the tail 1.5 s later; the turn's first audio comes before the stream ended
   (wall clock of the fake's last byte vs the call's answer time + first_audio_ms).
"""
import datetime
import json
import os
import pathlib
import time

import pytest

from harness import audio, http_api
from harness.baresip import Baresip
from harness.fake_openai import FakeOpenAi

pytestmark = pytest.mark.atende_only

SOURCE = pathlib.Path(os.environ.get("ATENDE_SOURCE_DIR",
                                     pathlib.Path(__file__).resolve().parents[2]))
SPEAK_AT_S = 8.0    # the greeting is over by then
SPEECH_RMS = 300.0  # int16 RMS; decoded G.711 silence is ~0-10


@pytest.fixture
def fake():
    f = FakeOpenAi()
    yield f
    f.stop()


def start_server(server_factory, workdir, fake, extra=""):
    cfg = workdir / "agent.yaml"
    cfg.write_text(f"personas_dir: {SOURCE / 'personas'}\n"
                   f"llm_base_url: {fake.base}\nllm_model: fake-model\n"
                   f"stt_engine: http\nstt_base_url: {fake.base}\n" + extra)
    return server_factory(extra_args=["--config", str(cfg)])


def call_with(srv, phrase, workdir, user, done):
    """baresip dials `user`, says `phrase` at SPEAK_AT_S; returns (call record, recording)
    once done(call) holds (then hangs up)."""
    mic = audio.make_speech_wav(phrase, workdir / "mic.wav", pad_before_s=SPEAK_AT_S,
                                pad_after_s=30)
    phone = Baresip(workdir, mic, max_seconds=60).start()
    call = None
    try:
        assert phone.dial(f"sip:{user}@{srv.sip_target}") is not None, phone.log()
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            calls = http_api.get_json(srv.http_base + "/api/calls")
            if calls:
                call = http_api.get_json(srv.http_base + "/api/calls/" + calls[0]["id"])
                if done(call):
                    break
            time.sleep(0.3)
        time.sleep(1.0)  # the recording gets the last of the answer
        phone.hangup()
    finally:
        phone.stop()
    return call, phone.received_wav()


def epoch(iso):
    return datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def test_llm_calls_an_http_tool_and_speaks_the_second_answer(server_factory, workdir, fake,
                                                              monkeypatch):
    said = "I would like a table for two on friday at eight"
    args = {"date": "2026-11-27", "time": "20:00", "people": 2}
    answer = "Temos mesa para duas pessoas na sexta às oito. Posso confirmar?"
    fake.script({"transcriptions": [{"text": said}],
                 "chat": [{"tool_calls": [{"id": "call_1", "name": "check_availability",
                                           "arguments": args}]},
                          {"content": answer}],
                 "tools": [{"tool": "check_availability",
                            "json": {"available": True, "alternatives": []}}]})
    monkeypatch.setenv("ATENDE_RESTAURANT_API", fake.base + "/tools")
    srv = start_server(server_factory, workdir, fake)
    call, heard = call_with(srv, said, workdir, "restaurante",
                            lambda c: len(c.get("turns", [])) >= 2)
    assert call and call["flow"] == "restaurante", call
    turns = call["turns"]
    assert len(turns) >= 2, call

    # The tool endpoint got the model's arguments as a JSON object.
    tools = fake.requests("/tools/")
    assert len(tools) == 1, tools
    assert tools[0]["path"] == "/tools/check_availability"
    assert tools[0]["json"] == args
    assert tools[0]["headers"]["content-type"] == "application/json"

    # The first request offered the tool; the second carries the call and its result.
    chats = fake.requests("/chat/completions")
    assert len(chats) == 2, chats
    offered = {t["function"]["name"] for t in chats[0]["json"]["tools"]}
    assert {"check_availability", "end_call"} <= offered
    msgs = chats[1]["json"]["messages"]
    assert msgs[-2]["role"] == "assistant"
    assert msgs[-2]["tool_calls"][0]["id"] == "call_1"
    assert msgs[-2]["tool_calls"][0]["function"]["name"] == "check_availability"
    assert msgs[-1]["role"] == "tool" and msgs[-1]["tool_call_id"] == "call_1"
    assert json.loads(msgs[-1]["content"]) == {"available": True, "alternatives": []}

    # The turn: the caller's words, the wait phrase and the answer, no error.
    t = turns[1]
    assert t["user_text"] == said
    assert t["error"] == "" and not t["interrupted"], t
    assert t["agent_text"].endswith(answer), t
    kinds = [e["kind"] for e in call["events"]]
    assert "tool_result" in kinds, call["events"]

    # The caller heard speech from the first answer audio on (wait phrase, then the answer).
    samples, rate = audio.read_wav(heard)
    at = t["first_play_ms"] / 1000.0
    assert audio.window_rms(samples, rate, at, at + 1.0) > SPEECH_RMS
    end = len(samples) / rate
    assert audio.window_rms(samples, rate, at + 1.5, min(end, at + 4.0)) > SPEECH_RMS


def test_streamed_speech_plays_before_the_stream_ends(server_factory, workdir, fake):
    said = "tell me about the product"
    answer = "Our product is streaming to you right now."
    fake.script({"transcriptions": [{"text": said}],
                 "chat": [{"content": answer}],
                 "speech": [{"input_contains": "streaming to you", "seconds": 3.0,
                             "chunk_bytes": 4800,
                             "tail_after_bytes": 96000,  # 2 s of 24 kHz PCM at once
                             "tail_delay_ms": 1500}]})
    srv = start_server(server_factory, workdir, fake,
                       f"tts_engine: http\ntts_base_url: {fake.base}\n")
    call, heard = call_with(srv, said, workdir, "sales",
                            lambda c: len(c.get("turns", [])) >= 2)
    assert call and len(call["turns"]) >= 2, call
    t = call["turns"][1]
    assert t["error"] == "", t
    assert t["agent_text"] == answer
    assert t["first_audio_ms"] is not None and t["first_play_ms"] is not None, t

    speech = [r for r in fake.requests("/audio/speech") if r["json"]["input"] == answer]
    assert len(speech) == 1, fake.requests("/audio/speech")
    assert speech[0]["json"]["response_format"] == "pcm"
    ended_at = speech[0]["ended_at"]
    first_audio_at = epoch(call["answered_at"]) + t["first_audio_ms"] / 1000.0
    # The 1.5 s pause before the tail makes the order unambiguous on a loaded machine.
    assert first_audio_at < ended_at - 0.5, (first_audio_at, ended_at, t)
    # Sanity of the two clocks: the first audio cannot precede the first byte by much.
    assert first_audio_at > speech[0]["first_byte_at"] - 0.5, (first_audio_at, speech[0], t)

    # The caller heard the tone of the streamed answer from its first audio on.
    samples, rate = audio.read_wav(heard)
    at = t["first_play_ms"] / 1000.0
    assert audio.window_rms(samples, rate, at, at + 1.5) > SPEECH_RMS
