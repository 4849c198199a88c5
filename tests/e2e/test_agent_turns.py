"""Speculative end of turn over SIP (issue 13 item 2), from the caller's side: baresip calls
an agent persona whose providers are tests/fake_openai, with a microphone of espeak-ng
speech.

1. "I'd like to book a table for ... four people", with a 0.7 s pause in the middle: the
   agent starts an answer in the pause (the recogniser, asked about the audio so far, says
   "I'd like to book a table for"; the LLM is slow to answer that), the caller goes on, and
   that request is cancelled: the fake sees its client hang up. The caller gets one answer,
   to the whole sentence.
2. "What time do you open": the recogniser closes it as a question; the answer started at
   the short pause is the one played (one transcription for the utterance, a used
   speculation in /metrics) and nothing is wasted.
3. The same question heard through a streaming recogniser (OpenAI realtime transcription
   over WebSocket, tests/fake_openai/fake_stream_stt.py) named in the persona.
4. A Deepgram-style streaming recogniser (`ws_stream`): one stream per utterance, whose
   partials end the turn (a closed question: the short wait) and, over the long answer,
   "stop, wait a moment" interrupts it at its first word; no recognition request is ever
   sent besides the two streams.

No timed assertion: the bench (bench/voice_to_voice.py) measures how much sooner.
"""
import pytest

from harness import audio, http_api
from harness.baresip import Baresip
from harness.fake_openai import FakeOpenAi, FakeStreamStt
from test_agent_barge_in import Timeline, heard_and_sent, describe, turn, wait_call

pytestmark = pytest.mark.atende_only

GREETING = "Hello, how can I help?"
HALF, REST = "I'd like to book a table for", "four people"
HALF_HEARD = "I'd like to book a table for"
WHOLE_HEARD = "I'd like to book a table for four people."
PAUSE_S = 0.7
BOOKED = "A table for four, booked."
NEVER = "This answer must never be heard."
QUESTION, QUESTION_HEARD = "What time do you open", "What time do you open?"
HOURS = "We open at nine."
REACTION_S = 1.5  # placement slack only
SETUP_S = 1.5


@pytest.fixture
def fake():
    f = FakeOpenAi()
    yield f
    f.stop()


def call_until_turn_2(srv, workdir, mic, end_at):
    """baresip calls `shop` with the timeline `mic` until the second turn is stored; returns
    the (stopped) phone, the call record and /metrics as of then."""
    phone = Baresip(workdir, mic.write(end_at + 20), max_seconds=90).start()
    try:
        assert phone.dial(f"sip:shop@{srv.sip_target}") is not None, phone.log()
        call = wait_call(srv, lambda c: turn(c, 2) is not None, timeout=end_at + 25)
        metrics = http_api.get_text(srv.http_base + "/metrics")
        phone.hangup()
    finally:
        phone.stop()
    return phone, call, metrics


def test_a_paused_sentence_gets_one_answer_and_a_closed_question_is_answered_from_the_pause(
        server_factory, workdir, fake, audiotool):
    mic = Timeline(workdir, audiotool)
    first_part = audio.make_speech_wav(HALF, workdir / "half.wav")
    half_s = audio.wav_seconds(first_part)
    fake.script({
        # Up to the pause the upload holds 0.2 s of pre-roll, the first half and < 0.5 s of
        # the pause; the whole sentence is longer than that.
        "transcriptions": [{"by_seconds": [[0.2 + half_s + 0.5, HALF_HEARD],
                                           [999, WHOLE_HEARD]]},
                           {"text": QUESTION_HEARD}],
        "chat": [{"user_contains": "four people", "content": BOOKED},
                 {"user_contains": "table for", "content": NEVER, "delay_first_ms": 5000},
                 {"user_contains": "open", "content": HOURS}]})
    personas = workdir / "personas"
    personas.mkdir()
    (personas / "shop.yaml").write_text(
        "name: shop\nlanguage: en\nvoice: en-us\n"
        f"greeting: \"{GREETING}\"\n"
        "system_prompt: You take bookings for a small restaurant. Short spoken sentences.\n"
        "no_input_seconds: 60\nmax_turns: 10\n")
    cfg = workdir / "agent.yaml"
    cfg.write_text(f"personas_dir: {personas}\nllm_base_url: {fake.base}\nllm_model: m\n"
                   f"stt_engine: http\nstt_base_url: {fake.base}\n")
    srv = server_factory(extra_args=["--config", str(cfg)])

    ask_at = SETUP_S + mic.server_says(GREETING)
    half_end = mic.say(ask_at, HALF)
    sentence_end = mic.say(half_end + PAUSE_S, REST)
    question_at = sentence_end + REACTION_S + mic.server_says(BOOKED) + 1.0
    end_at = mic.say(question_at, QUESTION) + REACTION_S + mic.server_says(HOURS)
    phone, call, metrics = call_until_turn_2(srv, workdir, mic, end_at)

    first, second = turn(call, 1), turn(call, 2)
    assert first and second, call
    # One answer to the whole sentence; the half never became a turn.
    assert first["user_text"] == WHOLE_HEARD and first["agent_text"] == BOOKED, call["turns"]
    assert second["user_text"] == QUESTION_HEARD and second["agent_text"] == HOURS, call["turns"]
    assert not first["error"] and not second["error"], call["turns"]
    assert turn(call, 3) is None, call["turns"]
    # The request made in the pause was cancelled: the fake saw its client hang up before
    # it answered.
    chats = fake.chats()
    halves = [c for c in chats if c["json"]["messages"][-1]["content"] == HALF_HEARD]
    assert halves and all(c.get("aborted") for c in halves), chats
    # The question: recognised once (at the pause) and that answer played.
    questions = [r for r in fake.requests() if r["path"].endswith("/audio/transcriptions")]
    counts = http_api.speculative_counts(metrics)
    assert counts.get("llm_wasted", 0) >= 1 and counts.get("llm_used", 0) >= 2, counts
    assert counts.get("stt_used", 0) >= 2, counts
    # The caller heard the greeting, one answer, then the other: never the cancelled one.
    heard_segs, _ = heard_and_sent(phone)
    assert len(heard_segs) == 3, describe(heard_segs)
    print(f"heard {describe(heard_segs)}; speculative {counts}; "
          f"{len(questions)} transcriptions, {len(chats)} completions")


def start_streaming_persona(server_factory, workdir, fake, engine, url):
    """atende with the persona `shop` hearing through the streaming STT `engine` at `url`."""
    personas = workdir / "personas"
    personas.mkdir()
    (personas / "shop.yaml").write_text(
        "name: shop\nlanguage: en\nvoice: en-us\n"
        f"greeting: \"{GREETING}\"\n"
        "system_prompt: You answer questions about a shop.\n"
        "no_input_seconds: 60\n"
        f"stt:\n  engine: {engine}\n  base_url: \"{url}\"\n")
    cfg = workdir / "agent.yaml"
    cfg.write_text(f"personas_dir: {personas}\nllm_base_url: {fake.base}\nllm_model: m\n")
    return server_factory(extra_args=["--config", str(cfg)])


def test_a_persona_hears_through_openai_realtime_transcription(server_factory, workdir, fake,
                                                              audiotool):
    stt = FakeStreamStt()
    try:
        # Every connection (the pause's, the end's) hears the same question.
        stt.script({"streams": [{"partials": ["what time", "what time do you"],
                                 "final": QUESTION_HEARD}] * 6})
        fake.script({"chat": [{"user_contains": "open", "content": HOURS}]})
        srv = start_streaming_persona(server_factory, workdir, fake, "openai_realtime_stt",
                                      f"ws://127.0.0.1:{stt.port}/v1/realtime?intent=transcription")
        mic = Timeline(workdir, audiotool)
        ask_at = SETUP_S + mic.server_says(GREETING)
        end_at = mic.say(ask_at, QUESTION) + REACTION_S + mic.server_says(HOURS)
        phone = Baresip(workdir, mic.write(end_at + 20), max_seconds=60).start()
        try:
            assert phone.dial(f"sip:shop@{srv.sip_target}") is not None, phone.log()
            call = wait_call(srv, lambda c: turn(c, 1) is not None, timeout=end_at + 25)
            phone.hangup()
        finally:
            phone.stop()
        first = turn(call, 1)
        assert first and first["user_text"] == QUESTION_HEARD, call
        assert first["agent_text"] == HOURS and not first["error"], first
        sessions = stt.received()
        assert sessions and all(s["path"].startswith("/v1/realtime") for s in sessions), sessions
        assert any(s.get("audio_ms", 0) > 500 for s in sessions), sessions
    finally:
        stt.stop()


LONG_HOURS = ("We open at nine in the morning and close at six in the evening, from Monday "
              "to Friday. On Saturdays we open at ten and close at two. On Sundays and on "
              "public holidays we are closed all day, but our website takes orders at any "
              "hour.")
# Long enough for the barge-in policy's min_speech (300 ms of voice): its first word decides.
STOP, STOP_HEARD, STOPPED = "Stop, wait a moment", "Stop, wait a moment.", "Okay."


def test_streamed_partials_end_the_turn_and_stop_interrupts(server_factory, workdir, fake,
                                                            audiotool):
    stt = FakeStreamStt()
    try:
        stt.script({"streams": [
            {"partials": ["what time", "what time do you open?"], "partial_every_ms": 300,
             "final": QUESTION_HEARD},
            {"partials": ["stop", "stop wait"], "partial_every_ms": 200,
             "final": STOP_HEARD}]})
        fake.script({"chat": [{"user_contains": "open", "content": LONG_HOURS},
                              # keep: a speculation on a partial may have asked first
                              {"user_contains": "top", "content": STOPPED, "keep": True}]})
        srv = start_streaming_persona(server_factory, workdir, fake, "ws_stream",
                                      f"ws://127.0.0.1:{stt.port}/v1/listen")
        mic = Timeline(workdir, audiotool)
        ask_at = SETUP_S + mic.server_says(GREETING)
        answer_at = mic.say(ask_at, QUESTION) + REACTION_S
        stop_at = answer_at + 2.5  # well inside the ~12 s answer
        end_at = mic.say(stop_at, STOP) + REACTION_S + mic.server_says(STOPPED)
        phone, call, metrics = call_until_turn_2(srv, workdir, mic, end_at)
        first, second = turn(call, 1), turn(call, 2)
        assert first and second, call
        # The final transcripts are the turns' words; "stop" cut the long answer.
        assert first["user_text"] == QUESTION_HEARD and first["interrupted"], first
        assert first["agent_text"] and len(first["agent_text"]) < len(LONG_HOURS), first
        assert second["user_text"] == STOP_HEARD and second["agent_text"] == STOPPED, second
        # One stream per utterance, and nothing else: no one-shot recognition (a pause or
        # the words over the answer would each have opened another connection).
        sessions = stt.received()
        assert len(sessions) == 2, sessions
        assert all(s["path"].startswith("/v1/listen") for s in sessions), sessions
        assert not [r for r in fake.requests() if r["path"].endswith("/audio/transcriptions")]
        counts = http_api.speculative_counts(metrics)
        assert counts.get("stt_used", 0) == 0 and counts.get("stt_wasted", 0) == 0, counts
        print(f"speculative {counts}; streams {[s.get('audio_ms') for s in sessions]} ms")
    finally:
        stt.stop()
