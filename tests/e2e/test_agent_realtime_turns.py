"""Speculation with the Realtime engine and our VAD (docs/realtime.md "Speculation"), over
SIP: baresip calls a persona with `engine: realtime` and `vad: local`; the model is
tests/fake_openai/fake_realtime.py.

"I'd like to book a table for ... four people", with a 0.4 s pause in the middle (longer
than the short pause, 200 ms, shorter than the end of a turn, 600 ms: with no words before
the commit the wait cannot follow them, docs/realtime.md): at the pause atende commits what the caller said and asks for a response, holding its audio; the
caller goes on, so atende cancels that response and deletes its output item; at the end of
the sentence it asks again, and that answer, held until the turn was over, is the one the
caller hears. The turn's record has the whole sentence. The utterance's start clears the
server's input buffer (what came before is no part of the turn) once, not at its pause.

No timed assertion: bench/voice_to_voice.py --compare realtime measures how much sooner.
"""
import pytest

from harness import audio, http_api
from harness.baresip import Baresip
from harness.fake_realtime import FakeRealtime
from test_agent_barge_in import Timeline, heard_and_sent, describe, turn, wait_call

pytestmark = pytest.mark.atende_only

GREETING = "Hello, how can I help?"
GREETING_S = 1.5
HALF, REST = "I'd like to book a table for", "four people"
PAUSE_S = 0.4
NEVER, NEVER_S = "This answer must never be heard.", 5.0
BOOKED, BOOKED_S = "A table for four, booked.", 2.0
SETUP_S = 1.5

PERSONA = f"""
name: rt-local
engine: realtime
realtime:
  url: "${{ATENDE_TEST_REALTIME_URL}}"
  vad: local
language: en
greeting: "{GREETING}"
system_prompt: You take bookings for a small restaurant.
"""


@pytest.fixture
def rt():
    fake = FakeRealtime()
    yield fake
    fake.stop()


def test_our_vad_speculates_at_the_pause_and_the_caller_hears_one_answer(
        server_factory, workdir, audiotool, rt, monkeypatch):
    # Every response.create takes the next response: the pause's, then the sentence's.
    rt.script({"responses": [{"say": GREETING, "seconds": GREETING_S},
                             {"say": NEVER, "seconds": NEVER_S},
                             {"say": BOOKED, "seconds": BOOKED_S}],
               "transcripts": [HALF, REST]})
    monkeypatch.setenv("ATENDE_TEST_REALTIME_URL", rt.ws_url)
    personas = workdir / "personas"
    personas.mkdir()
    (personas / "rt-local.yaml").write_text(PERSONA)
    cfg = workdir / "agent.yaml"
    cfg.write_text(f"personas_dir: {personas}\n")
    srv = server_factory(extra_args=["--config", str(cfg)])

    mic = Timeline(workdir, audiotool)
    half_end = mic.say(SETUP_S + GREETING_S + 1.0, HALF)
    end = mic.say(half_end + PAUSE_S, REST)
    phone = Baresip(workdir, mic.write(end + 15), max_seconds=60).start()
    try:
        assert phone.dial(f"sip:rt-local@{srv.sip_target}") is not None, phone.log()
        call = wait_call(srv, lambda c: turn(c, 1) is not None, timeout=end + 15)
        metrics = http_api.get_text(srv.http_base + "/metrics")
        phone.hangup()
    finally:
        phone.stop()

    first = turn(call, 1)
    assert first, (call, rt.received())
    # One turn, with the whole sentence: the words before the pause carried over.
    assert first["user_text"] == f"{HALF} {REST}", call["turns"]
    assert first["agent_text"] == BOOKED and not first["interrupted"], call["turns"]
    assert turn(call, 2) is None, call["turns"]

    # The pause's response was cancelled and its output deleted; each half was committed.
    types = [e["type"] for e in rt.received() if e["type"] != "input_audio_buffer.append"]
    assert types.count("input_audio_buffer.commit") == 2, types
    # The utterance's start restarted the server's input buffer (its pre-roll re-sent); its
    # pause and the rest of it did not.
    assert types.count("input_audio_buffer.clear") == 1, types
    assert types.index("input_audio_buffer.clear") < types.index("input_audio_buffer.commit")
    assert types.count("response.cancel") == 1, types
    deletes = rt.received("conversation.item.delete")
    assert len(deletes) == 1 and deletes[0]["item_id"], types
    # ... and the cancel came before the next response was asked (the API refuses a second).
    last_create = len(types) - 1 - types[::-1].index("response.create")
    assert types.index("response.cancel") < last_create, types
    # No error from the model (a second response while one is active would be one).
    assert "realtime_error" not in [e["kind"] for e in call["events"]], call["events"]

    counts = http_api.speculative_counts(metrics)
    assert counts.get("llm_wasted", 0) == 1 and counts.get("llm_used", 0) == 1, counts

    # The caller heard the greeting and the booked answer (its length), never the other.
    heard_segs, _ = heard_and_sent(phone)
    assert len(heard_segs) == 2, describe(heard_segs)
    answer = heard_segs[1][1] - heard_segs[1][0]
    assert abs(answer - BOOKED_S) < 0.6, describe(heard_segs)
