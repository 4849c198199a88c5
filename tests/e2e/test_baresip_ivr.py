"""A real softphone (baresip) calls the IVR: it hears the menu, presses 3 (echo test), speaks
a phrase, and hears its own phrase back. The call record shows flow ivr and digits "3".

Timeline of the caller's microphone WAV (aufile starts when the call is answered):
  0 s .. SPEAK_AT_S: silence   (the menu plays; DTMF 3 is sent at DTMF_AT_S)
  SPEAK_AT_S ..:      the phrase, then silence until hang-up.
"""
import subprocess
import time

import pytest

from harness import audio, http_api
from harness.baresip import Baresip

pytestmark = pytest.mark.atende_only

# flows/ivr.yaml's menu prompt; the echo step then says its own prompt (~4 s) before echoing.
MENU_TEXT = ("Welcome to atende. Say or press 1 for sales, 2 for support, 3 for the echo test, "
             "or 0 for an operator.")
PHRASE = "the quick brown fox jumps over the lazy dog"
DTMF_AT_S = 7.5
SPEAK_AT_S = 14.0
HANGUP_AT_S = 20.0
ECHO_MATCH_MIN = 0.8   # envelope correlation of a G.711 round trip measured ~0.99
SPEECH_RMS = 300.0     # int16 RMS; decoded G.711 silence is ~0-10


def test_ivr_menu_then_echo_test_with_baresip(server, workdir, audiotool):
    phrase = audio.make_speech_wav(PHRASE, workdir / "phrase.wav")
    mic = audio.make_speech_wav(PHRASE, workdir / "mic.wav", pad_before_s=SPEAK_AT_S,
                                pad_after_s=HANGUP_AT_S - SPEAK_AT_S + 10)
    if audiotool:
        # The server's own synthesis path (espeak-ng library, same voice and speed as
        # flows/ivr.yaml), so the envelope comparison is like with like.
        menu = workdir / "menu.wav"
        subprocess.run([str(audiotool), "say", "--voice", "en-us", "--wpm", "165", "--rate",
                        "8000", "--text", MENU_TEXT, "--out", str(menu)], check=True, timeout=30)
    else:
        menu = audio.make_speech_wav(MENU_TEXT, workdir / "menu.wav")
    phone = Baresip(workdir, mic, max_seconds=60).start()
    try:
        assert phone.dial(f"sip:ivr@{server.sip_target}") is not None, phone.log()
        started = time.monotonic()
        time.sleep(DTMF_AT_S)
        phone.send_digits("3")
        time.sleep(max(0.0, HANGUP_AT_S - (time.monotonic() - started)))
        phone.hangup()
    finally:
        phone.stop()
    heard = phone.received_wav()
    assert heard is not None, f"baresip recorded nothing\n{phone.log()}"
    samples, rate = audio.read_wav(heard)
    assert len(samples) / rate > SPEAK_AT_S, f"recording only {len(samples) / rate:.1f} s"

    # (a) the menu: speech in the first seconds, and it matches the menu text.
    menu_rms = audio.window_rms(samples, rate, 0.3, DTMF_AT_S - 1)
    assert menu_rms > SPEECH_RMS, f"menu window is silent (rms {menu_rms:.0f})"
    if audiotool:
        found = audio.find_phrase(menu, heard, audiotool)
        assert found["offset_s"] < DTMF_AT_S and found["score"] > 0.5, found

    # (b) the echo: the caller's phrase comes back, after it was spoken.
    found = audio.find_phrase(phrase, heard, audiotool)
    assert found["score"] >= (0.5 if found["method"] == "audiotool" else ECHO_MATCH_MIN), found
    assert SPEAK_AT_S - 0.5 <= found["offset_s"] <= SPEAK_AT_S + 3.0, found

    # (c) the record.
    calls = http_api.wait_calls(server.http_base)
    assert len(calls) == 1, calls
    assert calls[0]["flow"] == "ivr", calls[0]
    assert calls[0]["digits"] == "3", calls[0]
