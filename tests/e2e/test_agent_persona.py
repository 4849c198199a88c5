"""A real softphone (baresip) calls the sales persona, whose LLM and transcription are the fake
OpenAI server (tests/fake_openai): it hears the greeting, says one sentence (espeak-ng), the
fake transcribes it as scripted, the fake LLM streams an answer plus an end_call tool call,
and the agent says the answer and hangs up. Checked: what the caller heard after speaking,
the turn in the store (texts and stage times), the request the LLM got, and the metrics.

A second case makes the LLM answer 500: the caller hears the fallback phrase, the turn is
recorded with the error, and the call goes on.
"""
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
SAID = "I would like to hear more about it"
ANSWER = "Great. Atende answers every call for you. Talk soon, goodbye."
SPEAK_AT_S = 8.0     # the greeting (~5 s) is over by then
SPEECH_RMS = 300.0   # int16 RMS; decoded G.711 silence is ~0-10


@pytest.fixture
def fake():
    f = FakeOpenAi()
    yield f
    f.stop()


def start_server(server_factory, workdir, fake):
    cfg = workdir / "agent.yaml"
    cfg.write_text(f"personas_dir: {SOURCE / 'personas'}\n"
                   f"llm_base_url: {fake.base}\nllm_model: fake-model\n"
                   f"stt_engine: http\nstt_base_url: {fake.base}\n")
    return server_factory(extra_args=["--config", str(cfg)])


def wait_call(srv, pred, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        calls = http_api.get_json(srv.http_base + "/api/calls")
        if calls:
            call = http_api.get_json(srv.http_base + "/api/calls/" + calls[0]["id"])
            if pred(call) or time.monotonic() > deadline:
                return call
        elif time.monotonic() > deadline:
            return None
        time.sleep(0.3)


def test_persona_conversation_with_end_call(server_factory, workdir, fake):
    fake.script({"transcriptions": [{"text": SAID}],
                 "chat": [{"content": ANSWER,
                           "tool_calls": [{"id": "call_1", "name": "end_call",
                                           "arguments": {"reason": "done"}}]}]})
    srv = start_server(server_factory, workdir, fake)
    mic = audio.make_speech_wav(SAID, workdir / "mic.wav", pad_before_s=SPEAK_AT_S,
                                pad_after_s=30)
    phone = Baresip(workdir, mic, max_seconds=60).start()
    try:
        assert phone.dial(f"sip:sales@{srv.sip_target}") is not None, phone.log()
        call = wait_call(srv, lambda c: c.get("ended_at"), timeout=40)
    finally:
        phone.stop()
    assert call and call["ended_at"], call
    assert call["flow"] == "sales"

    # The store: the greeting and one answered turn with every stage time, in order.
    turns = call["turns"]
    assert [t["index"] for t in turns] == [0, 1], turns
    t = turns[1]
    assert t["user_text"] == SAID
    assert t["agent_text"] == ANSWER
    assert t["error"] == "" and not t["interrupted"]
    stages = [t[k] for k in ("speech_end_ms", "stt_final_ms", "first_token_ms",
                             "first_audio_ms", "first_play_ms")]
    assert all(s is not None for s in stages), t
    assert stages == sorted(stages), t
    assert t["speech_end_ms"] >= SPEAK_AT_S * 1000 - 1000, t

    # The LLM got the persona's prompt, the greeting and the caller's words, with tools.
    chats = [r for r in fake.requests() if r["path"].endswith("/chat/completions")]
    assert len(chats) == 1, chats
    msgs = chats[0]["json"]["messages"]
    assert msgs[0]["role"] == "system" and "Alex" in msgs[0]["content"]
    assert msgs[-1] == {"role": "user", "content": SAID}
    assert chats[0]["json"]["model"] == "fake-model"
    assert {t["function"]["name"] for t in chats[0]["json"]["tools"]} >= {"end_call"}

    # The caller heard the answer after speaking.
    heard = phone.received_wav()
    assert heard is not None, phone.log()
    samples, rate = audio.read_wav(heard)
    answer_at = t["first_play_ms"] / 1000.0
    rms = audio.window_rms(samples, rate, answer_at, answer_at + 2.0)
    assert rms > SPEECH_RMS, f"silence where the answer should be (rms {rms:.0f})"

    metrics = http_api.get_text(srv.http_base + "/metrics")
    assert "atende_turn_response_seconds_count" in metrics


def test_llm_failure_plays_fallback_and_call_goes_on(server_factory, workdir, fake):
    # Two: the chat client retries a 5xx once before anything was spoken.
    fake.script({"transcriptions": [{"text": SAID}], "chat": [{"status": 500}, {"status": 500}]})
    srv = start_server(server_factory, workdir, fake)
    mic = audio.make_speech_wav(SAID, workdir / "mic.wav", pad_before_s=SPEAK_AT_S,
                                pad_after_s=30)
    phone = Baresip(workdir, mic, max_seconds=60).start()
    try:
        assert phone.dial(f"sip:sales@{srv.sip_target}") is not None, phone.log()
        call = wait_call(srv, lambda c: len(c.get("turns", [])) >= 2, timeout=30)
        time.sleep(3)  # the fallback phrase plays out
        phone.hangup()
    finally:
        phone.stop()
    assert call and len(call["turns"]) >= 2, call
    t = call["turns"][1]
    assert "llm" in t["error"], t
    assert t["agent_text"] == "Sorry, I did not catch that, could you repeat?"
    assert t["first_play_ms"] is not None
    assert t["first_play_ms"] - t["stt_final_ms"] < 2000, t  # heard within 2 s
    assert call["ended_at"] is None or "agent" not in (call["end_reason"] or ""), call
    heard = phone.received_wav()
    samples, rate = audio.read_wav(heard)
    at = t["first_play_ms"] / 1000.0
    assert audio.window_rms(samples, rate, at, at + 1.5) > SPEECH_RMS
