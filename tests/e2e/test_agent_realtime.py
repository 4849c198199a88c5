"""The OpenAI Realtime engine (docs/realtime.md) over SIP: baresip calls a persona with
`engine: realtime`; its speech-to-speech model is tests/fake_openai/fake_realtime.py (the
Realtime event protocol, server VAD on the caller's audio) and its HTTP tool is answered by
tests/fake_openai/fake_openai.py.

One conversation: the greeting; the caller asks for a table, the model calls the persona's
check_availability tool (run by atende, the result goes back as function_call_output) and
answers at length; the caller talks over that answer: atende cancels the response and
truncates the item at the audio the caller had heard (the recording agrees); the model
answers the interruption. The call record has every turn with transcripts and timing.

The caller cannot react (its microphone is a WAV): the long answer lasts 14 s so the
interruption lands inside it with seconds of slack either way.
"""
import json
import time

import pytest

from harness import audio, http_api
from harness.baresip import Baresip
from harness.fake_openai import FakeOpenAi
from harness.fake_realtime import FakeRealtime

pytestmark = pytest.mark.atende_only

PROMPT = "You take table bookings for Restaurante Sabor. Check availability before confirming."
GREETING = "Hello, Restaurante Sabor, how can I help?"
ASK = "I would like a table for two on friday at eight"
ARGS = {"date": "2026-11-27", "time": "20:00", "people": 2}
LONG = ("We have a table for two on Friday at eight. It is by the window, and the kitchen "
        "serves the tasting menu that night, which takes about two hours. Shall I book it?")
INTERRUPT = "wait, I have another question"
SHORT = "Sure, what is your question?"
ASK_AT_S = 4.0
INTERRUPT_AT_S = 14.0
SPEECH_RMS = 300.0

PERSONA = f"""
name: realtime-sabor
engine: realtime
realtime:
  url: "${{ATENDE_TEST_REALTIME_URL}}"
  voice: marin
  vad: server
  silence_ms: 500
language: en
greeting: "{GREETING}"
system_prompt: "{PROMPT}"
tools: [end_call]
http_tools:
  - name: check_availability
    description: Whether the restaurant has a table for that date, time and party size.
    parameters:
      type: object
      properties:
        date: {{type: string}}
        time: {{type: string}}
        people: {{type: integer}}
      required: [date, time, people]
    url: "${{ATENDE_RESTAURANT_API}}/check_availability"
    timeout_ms: 3000
"""


@pytest.fixture
def fakes():
    rt, oa = FakeRealtime(), FakeOpenAi()
    yield rt, oa
    rt.stop()
    oa.stop()


def test_realtime_conversation_with_tool_call_and_barge_in(server_factory, workdir, fakes,
                                                           monkeypatch):
    rt, oa = fakes
    rt.script({"responses": [{"say": GREETING, "seconds": 1.5},
                             {"tool_call": {"call_id": "call_1", "name": "check_availability",
                                            "arguments": ARGS}},
                             {"say": LONG, "seconds": 14.0},
                             {"say": SHORT, "seconds": 2.0}],
               "transcripts": [ASK, INTERRUPT]})
    oa.script({"tools": [{"tool": "check_availability",
                          "json": {"available": True, "alternatives": []}}]})
    monkeypatch.setenv("ATENDE_TEST_REALTIME_URL", rt.ws_url)
    monkeypatch.setenv("ATENDE_RESTAURANT_API", oa.base + "/tools")
    personas = workdir / "personas"
    personas.mkdir()
    (personas / "realtime-sabor.yaml").write_text(PERSONA)
    cfg = workdir / "agent.yaml"
    cfg.write_text(f"personas_dir: {personas}\n")
    srv = server_factory(extra_args=["--config", str(cfg)])

    ask = audio.make_speech_wav(ASK, workdir / "ask.wav")
    interrupt = audio.make_speech_wav(INTERRUPT, workdir / "interrupt.wav")
    mic = audio.place_wavs(workdir / "mic.wav", [(ASK_AT_S, ask), (INTERRUPT_AT_S, interrupt)],
                           total_s=60)
    phone = Baresip(workdir, mic, max_seconds=70).start()
    call = None
    try:
        assert phone.dial(f"sip:realtime-sabor@{srv.sip_target}") is not None, phone.log()
        deadline = time.monotonic() + 50
        while time.monotonic() < deadline:
            calls = http_api.get_json(srv.http_base + "/api/calls")
            if calls:
                call = http_api.get_json(srv.http_base + "/api/calls/" + calls[0]["id"])
                if len(call.get("turns", [])) >= 3:
                    break
            time.sleep(0.3)
        time.sleep(1.0)
        phone.hangup()
    finally:
        phone.stop()
    assert call and call["flow"] == "realtime-sabor", call
    turns = call["turns"]
    assert len(turns) >= 3, (turns, rt.received())

    # Session configuration from the persona (GA session shape).
    updates = rt.received("session.update")
    assert updates, rt.received()
    s = updates[0]["session"]
    assert s["type"] == "realtime" and s["instructions"] == PROMPT
    assert s["audio"]["output"]["voice"] == "marin"
    assert s["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert s["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert {t["name"] for t in s["tools"]} == {"end_call", "check_availability"}
    assert all(t["type"] == "function" for t in s["tools"])
    assert len(rt.received("input_audio_buffer.append")) > 50

    # The tool ran through atende's HTTP tool code and its result went back to the model.
    tools = [r for r in oa.requests() if r["path"] == "/tools/check_availability"]
    assert len(tools) == 1 and tools[0]["json"] == ARGS, tools
    outputs = [e for e in rt.received("conversation.item.create")
               if e["item"]["type"] == "function_call_output"]
    assert len(outputs) == 1, rt.received()
    assert outputs[0]["item"]["call_id"] == "call_1"
    assert json.loads(outputs[0]["item"]["output"]) == {"available": True, "alternatives": []}

    # Barge-in: the response was cancelled and its item truncated at what was played.
    assert rt.received("response.cancel"), rt.received()
    truncs = rt.received("conversation.item.truncate")
    assert len(truncs) == 1, truncs
    heard_ms = truncs[0]["audio_end_ms"]
    assert 1000 < heard_ms < 13000, truncs

    # What the caller's recording shows of that answer agrees with audio_end_ms.
    samples, rate = audio.read_wav(phone.received_wav())
    segs = audio.speech_segments(samples, rate, SPEECH_RMS)
    longest = max(segs, key=lambda s: s[1] - s[0])
    assert abs((longest[1] - longest[0]) - heard_ms / 1000.0) < 1.0, (segs, heard_ms)

    # The record: greeting, the interrupted answer (heard part only), the next answer.
    g, t1, t2 = turns[0], turns[1], turns[2]
    assert g["index"] == 0 and g["agent_text"] == GREETING, g
    assert t1["user_text"] == ASK and t1["interrupted"], t1
    assert t1["agent_text"] and LONG.startswith(t1["agent_text"]) and \
        len(t1["agent_text"]) < len(LONG), t1
    assert t2["user_text"] == INTERRUPT and not t2["interrupted"], t2
    assert t2["agent_text"] == SHORT and t2["error"] == "", t2
    for t in (t1, t2):
        assert 0 <= t["speech_end_ms"] <= t["first_audio_ms"] <= t["first_play_ms"], t
        assert t["stt_final_ms"] >= 0, t
    kinds = [e["kind"] for e in call["events"]]
    assert "tool" in kinds and "tool_result" in kinds and "barge_in" in kinds, call["events"]
