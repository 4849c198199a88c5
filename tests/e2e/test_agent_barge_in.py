"""Turn-taking over SIP, from the caller's side: baresip calls an agent persona whose LLM and
transcription are tests/fake_openai; the caller's microphone is a timeline of espeak-ng
utterances, and baresip records both what it sent and what it heard.

- barge-in: the agent gives a long answer (~12 s); the caller says "wait, stop please" a
  third of the way in. The answer stops soon after the caller starts talking (in the
  recording, and much earlier than the full answer would end), the turn is stored as
  interrupted with only the heard part, and the agent answers the interruption.
- backchannel: same answer, the caller says "okay" and "uh-huh" over it: nothing stops, the
  whole answer is heard and stored, and no turn is made of the backchannels.
- provider failure: the LLM answers 500 (or its stream stalls): the caller hears the
  fallback phrase (found in the recording by its loudness contour against the server's own
  rendering, and not an unrelated phrase), the turn is stored with the error, and the next
  turn works and ends the call with a BYE.

Placement: the caller cannot react, so each utterance is placed from the measured lengths
of what comes before it (the greeting and the answer rendered by the server's synthesis,
the caller's own words), with slack of seconds in each direction, not from magic offsets.
Every assertion on time is relative to what the recording shows, with a margin of seconds.
"""
import time

import pytest

from harness import audio, http_api
from harness.baresip import Baresip
from harness.fake_openai import FakeOpenAi

pytestmark = pytest.mark.atende_only

GREETING = "Hello, how can I help?"
ASK = "Tell me about your opening hours please"
ANSWER = ("We open every day at nine in the morning. "
          "On weekdays we close at six in the evening. "
          "On Saturdays we close a little earlier, at two in the afternoon. "
          "On Sundays and public holidays the shop stays closed all day.")
# Longer than the policy needs (700 ms): the caller goes on talking after the agent
# stopped, so the cut answer and the next one are seconds apart in the recording.
INTERRUPTION = "wait, stop please, I have another question"
SECOND_ANSWER = "Sure, what would you like to know?"
BACKCHANNELS = ["okay", "uh-huh"]
FALLBACK = "Sorry, I did not catch that, could you repeat?"
AGAIN = "Never mind, thank you"
GOODBYE = "Alright, thank you for calling. Goodbye."

WPM = 165  # the persona voice's speed (speech::Voice default)
SPEECH_RMS = 300.0  # int16 RMS of a 20 ms frame; decoded G.711 silence is ~0-10
# The agent's reaction after the caller's last word: end of turn (600 ms of silence) plus
# recognition, the LLM's first sentence and its synthesis (instant with the fake). Only
# used to place the next utterance; placements leave seconds of slack either way.
REACTION_S = 0.9
SETUP_S = 1.5  # the caller waits this long after the greeting (the two start within 0.3 s)


@pytest.fixture
def fake():
    f = FakeOpenAi()
    yield f
    f.stop()


def start_server(server_factory, workdir, fake):
    personas = workdir / "personas"
    personas.mkdir()
    (personas / "shop.yaml").write_text(
        "name: shop\n"
        "language: en\n"
        "voice: en-us\n"
        f"greeting: \"{GREETING}\"\n"
        "system_prompt: You answer questions about a small shop. Short spoken sentences.\n"
        "tools: [end_call]\n"
        "no_input_seconds: 60\n"  # no re-prompt in the middle of a test
        "max_turns: 10\n")
    cfg = workdir / "agent.yaml"
    cfg.write_text(f"personas_dir: {personas}\n"
                   f"llm_base_url: {fake.base}\nllm_model: fake-model\n"
                   f"stt_engine: http\nstt_base_url: {fake.base}\n")
    return server_factory(extra_args=["--config", str(cfg)])


class Timeline:
    """The caller's microphone: utterances placed on a timeline from measured lengths."""

    def __init__(self, workdir, audiotool):
        self.workdir = workdir
        self.audiotool = audiotool
        self.placed = []  # (start_s, wav)
        self.n = 0

    def server_says(self, text):
        """Seconds the server takes to say text (sentence by sentence, as the agent does)."""
        total = 0.0
        for sentence in split_sentences(text):
            self.n += 1
            wav = audio.server_speech_wav(sentence, self.workdir / f"agent{self.n}.wav",
                                          self.audiotool, wpm=WPM)
            total += audio.wav_seconds(wav)
        return total

    def say(self, at_s, text):
        """Places the caller's text at at_s; returns when its last word ends."""
        self.n += 1
        wav = audio.make_speech_wav(text, self.workdir / f"caller{self.n}.wav")
        self.placed.append((at_s, wav))
        samples, rate = audio.read_wav(wav)
        segments = audio.speech_segments(samples, rate, SPEECH_RMS)
        return at_s + (segments[-1][1] if segments else audio.wav_seconds(wav))

    def write(self, total_s):
        return audio.place_wavs(self.workdir / "mic.wav", self.placed, total_s)


def split_sentences(text):
    parts, start = [], 0
    for i, ch in enumerate(text):
        if ch in ".?!" and (i + 1 == len(text) or text[i + 1] == " "):
            parts.append(text[start:i + 1].strip())
            start = i + 1
    if text[start:].strip():
        parts.append(text[start:].strip())
    return parts


def wait_call(srv, pred, timeout):
    """The newest call's full record once pred(record) holds (or the last one seen)."""
    deadline = time.monotonic() + timeout
    call = None
    while True:
        calls = http_api.get_json(srv.http_base + "/api/calls")
        if calls:
            call = http_api.get_json(srv.http_base + "/api/calls/" + calls[0]["id"])
            if pred(call):
                return call
        if time.monotonic() > deadline:
            return call
        time.sleep(0.3)


def turn(call, index):
    return next((t for t in (call or {}).get("turns", []) if t["index"] == index), None)


def heard_and_sent(phone):
    """Speech stretches of what the caller heard and of what it sent, in seconds of each
    recording. The two are only roughly aligned: on a loaded machine baresip's recording
    of what it heard can lose a second of silence (late packets dropped), so assertions
    use positions within one recording, and reach the other through the server's clock."""
    heard, sent = phone.received_wav(), phone.sent_wav()
    assert heard and sent, phone.log()
    return [audio.speech_segments(*audio.read_wav(path), SPEECH_RMS) for path in (heard, sent)]


def describe(segments):
    return ", ".join(f"{a:.2f}-{b:.2f}" for a, b in segments)


def server_minus_sent(sent_segs, asked):
    """Offset from the caller's sent recording to the server's clock (ms offsets since
    the call started), from the first turn: where its utterance ends in the recording vs
    speech_end_ms in the store. A few hundred ms: call set-up and the jitter buffer."""
    assert sent_segs, "the caller sent no speech"
    return asked["speech_end_ms"] / 1000.0 - sent_segs[0][1]


def test_barge_in_stops_the_answer_and_the_agent_answers_again(server_factory, workdir, fake,
                                                                 audiotool):
    fake.script({"transcriptions": [{"text": ASK}, {"text": INTERRUPTION}],
                 "chat": [{"content": ANSWER}, {"content": SECOND_ANSWER}]})
    srv = start_server(server_factory, workdir, fake)
    mic = Timeline(workdir, audiotool)
    answer_s = mic.server_says(ANSWER)
    ask_at = SETUP_S + mic.server_says(GREETING)
    answer_at = mic.say(ask_at, ASK) + REACTION_S
    interrupt_at = answer_at + answer_s / 3  # seconds of the answer either side of it
    mic.say(interrupt_at, INTERRUPTION)
    phone = Baresip(workdir, mic.write(interrupt_at + 30), max_seconds=90).start()
    try:
        assert phone.dial(f"sip:shop@{srv.sip_target}") is not None, phone.log()
        call = wait_call(srv, lambda c: turn(c, 2) is not None, timeout=interrupt_at + 25)
        time.sleep(1.0)  # the rest of the second answer reaches the recording
        phone.hangup()
    finally:
        phone.stop()
    assert turn(call, 2), call

    # The store: the long answer interrupted, with only the heard part; then an answer to
    # the interruption.
    first, second = turn(call, 1), turn(call, 2)
    assert first["user_text"] == ASK and first["interrupted"], first
    heard_text = first["agent_text"]
    assert heard_text and len(heard_text) < len(ANSWER), first
    assert ANSWER.startswith(heard_text.rstrip(".,")), (heard_text, ANSWER)
    assert second["user_text"] == INTERRUPTION, second
    assert second["agent_text"] == SECOND_ANSWER and not second["interrupted"], second
    barge = [e["detail"] for e in call["events"] if e["kind"] == "barge_in"]
    assert barge == [heard_text], call["events"]
    # The LLM's second request carries the cut answer (marked "…"), not the whole one.
    history = fake.chats()[1]["json"]["messages"]
    assert [m["content"] for m in history[-3:]] == [ASK, heard_text + "\u2026", INTERRUPTION], \
        history

    # The caller's side: the greeting, the answer cut short, the second answer.
    heard_segs, sent_segs = heard_and_sent(phone)
    assert len(heard_segs) == 3 and len(sent_segs) == 2, (
        f"heard {describe(heard_segs)}; sent {describe(sent_segs)}")
    start, stop = heard_segs[1]
    played = stop - start
    # When the caller started talking, on the server's clock: the answer had been playing
    # this long. It played until then, and stopped within a couple of seconds (the policy
    # waits for 700 ms of speech without a transcript); the whole would be seconds longer.
    offset = server_minus_sent(sent_segs, first)
    before = sent_segs[1][0] + offset - first["first_play_ms"] / 1000.0
    print(f"answer heard {start:.2f}-{stop:.2f} s ({played:.2f} of {answer_s:.2f} s); the "
          f"caller spoke {before:.2f} s into it; stored {heard_text!r}; heard "
          f"{describe(heard_segs)}; sent {describe(sent_segs)}; offset {offset:.2f} s")
    assert before > 1.0, f"the caller spoke before the answer ({before:.2f} s)"
    assert before - 1.0 < played < before + 2.5, (
        f"{played:.2f} s of the answer played; the caller spoke {before:.2f} s into it")
    assert played < answer_s - 3.0, f"{played:.2f} s of a {answer_s:.2f} s answer were played"
    # What the store says was heard matches how much of the answer was played (within a
    # sentence: the cut is proportional over characters).
    played_fraction = played / answer_s
    stored_fraction = len(heard_text) / len(ANSWER)
    assert abs(played_fraction - stored_fraction) < 0.25, (played_fraction, stored_fraction)

    # Then the agent answered the interruption, whole.
    second_s = mic.server_says(SECOND_ANSWER)
    again = heard_segs[2][1] - heard_segs[2][0]
    assert abs(again - second_s) < 1.0, (again, second_s)


def test_backchannel_does_not_stop_the_answer(server_factory, workdir, fake, audiotool):
    fake.script({"transcriptions": [{"text": ASK}], "chat": [{"content": ANSWER}]})
    srv = start_server(server_factory, workdir, fake)
    mic = Timeline(workdir, audiotool)
    answer_s = mic.server_says(ANSWER)
    ask_at = SETUP_S + mic.server_says(GREETING)
    answer_at = mic.say(ask_at, ASK) + REACTION_S
    for i, word in enumerate(BACKCHANNELS):
        mic.say(answer_at + answer_s * (i + 1) / (len(BACKCHANNELS) + 1), word)
    end_at = answer_at + answer_s
    phone = Baresip(workdir, mic.write(end_at + 30), max_seconds=90).start()
    try:
        assert phone.dial(f"sip:shop@{srv.sip_target}") is not None, phone.log()
        call = wait_call(srv, lambda c: turn(c, 1) is not None, timeout=end_at + 20)
        time.sleep(3.0)  # anything a backchannel wrongly started would show by now
        call = wait_call(srv, lambda c: True, timeout=5)
        phone.hangup()
    finally:
        phone.stop()
    first = turn(call, 1)
    assert first, call
    assert first["user_text"] == ASK, first
    assert not first["interrupted"] and first["error"] == "", first
    assert first["agent_text"] == ANSWER, first
    assert turn(call, 2) is None, f"a backchannel became a turn: {call['turns']}"
    assert not [e for e in call["events"] if e["kind"] == "barge_in"], call["events"]
    assert len(fake.chats()) == 1, fake.chats()

    # The caller heard the greeting and the whole answer (its trailing silence is not in
    # the stretch), and the backchannels were said while it played.
    heard_segs, sent_segs = heard_and_sent(phone)
    assert len(heard_segs) == 2 and len(sent_segs) == 1 + len(BACKCHANNELS), (
        f"heard {describe(heard_segs)}; sent {describe(sent_segs)}")
    start, stop = heard_segs[1]
    played = stop - start
    offset = server_minus_sent(sent_segs, first)
    into = [s[0] + offset - first["first_play_ms"] / 1000.0 for s in sent_segs[1:]]
    print(f"answer heard {start:.2f}-{stop:.2f} s ({played:.2f} of {answer_s:.2f} s); "
          f"backchannels {into} s into it; sent {describe(sent_segs)}")
    assert all(1.0 < t < played - 1.0 for t in into), (into, played)
    assert played > answer_s - 1.5, (
        f"{played:.2f} s of a {answer_s:.2f} s answer were heard: {describe(heard_segs)}")


def best_match(needle_wav, heard_wav, workdir, audiotool):
    """Where needle_wav best matches the recording: {"offset_s", "score"}.

    The envelope search compares 10 ms frames, and a rendering that is sample-for-sample
    in the recording (the server's own synthesis through G.711) scores anywhere from 0.55
    to 0.99 depending on where the frame grid falls: the best of eight grid phases counts."""
    samples, rate = audio.read_wav(heard_wav)
    best = {"offset_s": 0.0, "score": -1.0}
    for phase in range(8):
        skip = phase * rate // 800  # 1.25 ms steps
        shifted = audio.write_wav(workdir / "heard_shifted.wav", samples[skip:], rate)
        found = audio.find_phrase(needle_wav, shifted, audiotool)
        if found["score"] > best["score"]:
            best = {"offset_s": skip / rate + found["offset_s"], "score": found["score"]}
    return best


UNRELATED = "On weekdays we close at six in the evening, okay."
STALL = {"stall_ms": 20000}  # longer than any timeout involved
FAILURES = {
    # name: (the LLM's answers to the first request and its retries, what the caller hears
    # before the fallback, seconds the provider keeps the agent waiting: from the request
    # when nothing is said first, else from the first sentence's start)
    # The chat client retries a 5xx once before any byte of the answer: two failures.
    "http_500": ([{"status": 500}, {"status": 500}], "", 0.0),
    # The stream starts (headers, the role chunk) and then nothing comes: no first token
    # within the agent's 2 s, the request is abandoned.
    "stall_before_text": ([dict(STALL, content=ANSWER, stall_after=1)], "", 2.0),
    # The first sentence arrives and is spoken, then the stream stalls: the chat client's
    # stall timeout (5 s) ends it.
    "stall_mid_answer": ([dict(STALL, content="Let me check that for you. " + ANSWER,
                               stall_after=8)], "Let me check that for you.", 5.0),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_provider_failure_fallback_heard_then_call_ends(server_factory, workdir, fake,
                                                        audiotool, failure):
    answers, said_first, wait_s = FAILURES[failure]
    fake.script({"transcriptions": [{"text": ASK}, {"text": AGAIN}],
                 "chat": answers + [
                     {"content": GOODBYE,
                      "tool_calls": [{"id": "call_1", "name": "end_call",
                                      "arguments": {"reason": "caller done"}}]}]})
    srv = start_server(server_factory, workdir, fake)
    mic = Timeline(workdir, audiotool)
    fallback_s = mic.server_says(FALLBACK)
    ask_at = SETUP_S + mic.server_says(GREETING)
    said_s = mic.server_says(said_first) if said_first else 0.0
    fallback_at = mic.say(ask_at, ASK) + REACTION_S + max(wait_s, said_s)
    again_at = fallback_at + fallback_s + 2.0
    end_at = mic.say(again_at, AGAIN) + REACTION_S + mic.server_says(GOODBYE)
    phone = Baresip(workdir, mic.write(end_at + 30), max_seconds=90).start()
    try:
        assert phone.dial(f"sip:shop@{srv.sip_target}") is not None, phone.log()
        call = wait_call(srv, lambda c: c.get("ended_at"), timeout=end_at + 25)
        time.sleep(1.0)  # baresip handles the BYE
        phone_log = phone.log()
    finally:
        phone.stop()
    assert call and call["ended_at"], call

    # The store: the failed turn with its error and the fallback, then the turn that ended
    # the call, and the call's end.
    failed, last = turn(call, 1), turn(call, 2)
    assert failed and failed["user_text"] == ASK, call["turns"]
    assert failed["error"].startswith("llm:"), failed
    assert failed["agent_text"] == (said_first + " " + FALLBACK).strip(), failed
    assert not failed["interrupted"], failed
    assert failed["first_play_ms"] is not None, failed
    assert last and last["user_text"] == AGAIN and last["agent_text"] == GOODBYE, call["turns"]
    assert last["error"] == "", last
    assert [e["detail"] for e in call["events"] if e["kind"] == "hangup"] == \
        ["agent ended the call"], call["events"]
    assert call["end_reason"], call
    # The failed turn's requests (the failure and the client's retries), then the last
    # turn's: possibly twice with the same words (an answer started at the pause inside
    # "Never mind, thank you" and asked again at its end).
    by_words = {}
    for c in fake.chats():
        by_words.setdefault(c["json"]["messages"][-1]["content"], []).append(c)
    assert list(by_words) == [ASK, AGAIN], fake.chats()
    assert len(by_words[ASK]) == len(answers), fake.chats()

    # The caller heard: the greeting, [the first sentence, the stall,] the fallback phrase,
    # the goodbye; the fallback is where the server's rendering of it matches best, and an
    # unrelated phrase matches nowhere nearly as well. baresip saw the server's BYE.
    heard_segs, _ = heard_and_sent(phone)
    assert len(heard_segs) == (4 if said_first else 3), describe(heard_segs)
    fallback_seg = heard_segs[-2]
    heard = phone.received_wav()
    found = best_match(audio.server_speech_wav(FALLBACK, workdir / "fallback.wav", audiotool,
                                               wpm=WPM), heard, workdir, audiotool)
    unrelated = best_match(audio.server_speech_wav(UNRELATED, workdir / "unrelated.wav",
                                                   audiotool, wpm=WPM), heard, workdir, audiotool)
    print(f"{failure}: fallback {found}, unrelated {unrelated}; heard {describe(heard_segs)}")
    # Measured: 0.85-0.99 for the fallback (espeak-ng renders a phrase slightly differently
    # from one call to the next), 0.30 for the unrelated phrase.
    assert found["score"] >= 0.7, found
    assert found["score"] - unrelated["score"] >= 0.3, (found, unrelated)
    assert abs(found["offset_s"] - fallback_seg[0]) < 0.5, (found, describe(heard_segs))
    if said_first:
        first_s = heard_segs[1][1] - heard_segs[1][0]
        assert abs(first_s - said_s) < 1.0, (first_s, said_s)
        assert fallback_seg[0] - heard_segs[1][1] > 2.0, describe(heard_segs)  # the stall
    goodbye_s = heard_segs[-1][1] - heard_segs[-1][0]
    assert abs(goodbye_s - mic.server_says(GOODBYE)) < 1.0, describe(heard_segs)
    assert "session closed" in phone_log, phone_log  # baresip's words for a BYE it got
