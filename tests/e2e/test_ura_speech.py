"""The speech IVR (URA): a real softphone (baresip) calls `ivr` and answers the menu by
voice instead of the keypad. atende hears it through the WebRTC VAD, the turn detector and
pocketsphinx with a grammar of the menu's words and digit words (flows/ivr.yaml).

- "support" spoken while the menu prompt still plays: the prompt is cut once the words are
  recognised as a choice, the events say the choice was made by speech, the flow goes to
  the support step.
- an unrelated sentence after the prompt: no choice; the flow apologises and re-prompts.

The caller's microphone is one WAV with the utterance placed at a fixed offset from the
answer (the menu prompt lasts about 7.2 s with the server's own synthesis)."""
import time

import pytest

from harness import http_api
from harness.baresip import Baresip
from harness.conversation import timeline_wav

pytestmark = pytest.mark.atende_only



def _mic_wav(audiotool, workdir, text, at_s, total_s):
    return timeline_wav(audiotool, workdir, [(at_s, text)], total_seconds=total_s)


def _call_ivr(server, workdir, mic, seconds, until=None):
    """Calls ivr with `mic` as the microphone for up to `seconds` (or until the call ended,
    or `until(events)` holds); returns the call record."""
    phone = Baresip(workdir, mic, max_seconds=seconds + 20).start()
    record = None
    try:
        assert phone.dial(f"sip:ivr@{server.sip_target}") is not None, phone.log()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            calls = http_api.get_json(server.http_base + "/api/calls")
            if calls:
                record = http_api.get_json(f"{server.http_base}/api/calls/{calls[0]['id']}")
                if record.get("ended_at") or (until and until(record["events"])):
                    break
            time.sleep(0.5)
        phone.hangup()
    finally:
        phone.stop()
    calls = http_api.wait_calls(server.http_base, lambda c: bool(c and c[0].get("ended_at")))
    assert len(calls) == 1 and calls[0]["flow"] == "ivr", calls
    # The flow's last events (hangup, counts) go through the store's queue after the end
    # time: wait for them too.
    url = f"{server.http_base}/api/calls/{calls[0]['id']}"
    deadline = time.monotonic() + 5
    record = http_api.get_json(url)
    while not _kinds(record["events"], "counts") and time.monotonic() < deadline:
        time.sleep(0.2)
        record = http_api.get_json(url)
    return record


def _kinds(events, kind):
    return [e["detail"] for e in events if e["kind"] == kind]


def test_ivr_menu_answered_by_voice_over_the_prompt(server, workdir, audiotool):
    if not audiotool:
        pytest.skip("tools/audiotool is not built")
    mic = _mic_wav(audiotool, workdir, "support", at_s=3.0, total_s=40)
    record = _call_ivr(server, workdir, mic, 25,
                       until=lambda ev: any(e["kind"] == "step" and e["detail"] == "support"
                                            for e in ev))
    events = record["events"]
    assert _kinds(events, "choice_by") == ["speech: support"], events
    assert _kinds(events, "choice") == ["2 support"], events
    assert "support" in _kinds(events, "step"), events
    assert _kinds(events, "heard") == ["support"], events
    assert record["digits"] in ("", None), record  # nothing was pressed


def test_ivr_menu_unrelated_speech_is_no_choice_and_reprompts(server, workdir, audiotool):
    if not audiotool:
        pytest.skip("tools/audiotool is not built")
    # After the prompt (about 7.2 s) has ended.
    mic = _mic_wav(audiotool, workdir, "I would like to order a pizza", at_s=8.5, total_s=40)
    record = _call_ivr(server, workdir, mic, 16)
    events = record["events"]
    assert _kinds(events, "choice") == [], events
    assert _kinds(events, "choice_by") == [], events
    assert _kinds(events, "no_match") == ["menu"], events
    assert _kinds(events, "heard"), events  # the utterance did reach the recogniser
    # The re-prompt: the counts at the end of the call have one invalid answer, and the
    # call stayed in the menu (no other step was entered).
    assert _kinds(events, "step") == ["menu"], events
    counts = _kinds(events, "counts")
    assert counts and "invalid=1" in counts[-1], events
