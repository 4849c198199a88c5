"""Call recording (docs/recording.md) against the real server: a baresip caller speaks
espeak-ng words to a recorded flow; the WAV is downloaded from GET
/api/calls/{id}/recording and checked channel by channel (caller left, atende right); a flow
without recording has none; a kill -9 mid-call leaves a recording that the next start-up
repairs."""
import array
import json
import time
import urllib.error
import urllib.request
import wave

import pytest

from harness import audio
from harness.asp_server import TOKEN, start_asp_server
from harness.audiosocket_server import wait_until
from harness.baresip import Baresip

pytestmark = pytest.mark.atende_only

PROMPT = "This call is recorded. Please say your name after the tone."
CALLER_WORDS = "my name is alice and I live in apartment four"


def flows(workdir):
    d = workdir / "flows_rec"
    d.mkdir(parents=True, exist_ok=True)
    # Asks, keeps what the caller says (no recognition), thanks and hangs up. `recorded`
    # keeps audio and transcript; `plain` records nothing; `words` the transcript only.
    for name, recording in (("recorded", "{audio: true, transcript: true}"), ("plain", None),
                            ("words", "{audio: false, transcript: true}")):
        (d / f"{name}.yaml").write_text(f"""
name: {name}
{"recording: " + recording if recording else ""}
start: hello
steps:
  hello:
    type: capture
    prompt: "{PROMPT}"
    into: name
    max_length: 6s
    timeout: 8s
    retries: 0
    next: bye
    on_failure: bye
  bye:
    type: hangup
    text: "Thank you."
""")
    return d


def api(srv, path, token=TOKEN):
    """(status, body bytes) of GET path with the token (None: without)."""
    req = urllib.request.Request(srv.http_base + path)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def call_json(srv, call_id):
    status, body = api(srv, f"/api/calls/{call_id}")
    return json.loads(body) if status == 200 else None


def calls(srv):
    status, body = api(srv, "/api/calls")
    return json.loads(body) if status == 200 else []


def start(server_factory, workdir, **kwargs):
    return start_asp_server(server_factory, workdir,
                            extra_args=["--flows-dir", str(flows(workdir))], **kwargs)


def place_call(srv, workdir, user, seconds):
    word = audio.make_speech_wav(CALLER_WORDS, workdir / "words.wav")
    mic = workdir / "mic.wav"
    audio.place_wavs(mic, [(5.0, word)], 40)  # after the prompt
    phone = Baresip(workdir, mic, max_seconds=60).start()
    try:
        assert phone.dial(f"sip:{user}@{srv.sip_target}") is not None, phone.log()
        time.sleep(seconds)
    finally:
        phone.hangup()
        phone.stop()
    return word


def channels(path):
    """(left, right, rate) of a 16-bit stereo WAV."""
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 2 and w.getsampwidth() == 2, (w.getnchannels(),
                                                                    w.getsampwidth())
        rate = w.getframerate()
        data = array.array("h", w.readframes(w.getnframes()))
    return data[0::2], data[1::2], rate


def test_recorded_call_has_both_sides_and_a_plain_one_has_none(server_factory, workdir,
                                                               audiotool):
    srv = start(server_factory, workdir)
    word = place_call(srv, workdir, "recorded", 12.0)
    assert wait_until(lambda: calls(srv) and calls(srv)[0].get("ended_at"), 15), calls(srv)
    call_id = calls(srv)[0]["id"]
    assert wait_until(lambda: (call_json(srv, call_id) or {}).get("recording"), 15), \
        call_json(srv, call_id)
    rec = call_json(srv, call_id)
    assert rec["recording"]["url"] == f"/api/calls/{call_id}/recording", rec["recording"]
    assert rec["recording"]["format"] == "wav"

    # The token is needed (tokens are configured), then the file is the WAV.
    status, _ = api(srv, rec["recording"]["url"], token=None)
    assert status == 401, status
    status, body = api(srv, rec["recording"]["url"])
    assert status == 200 and len(body) == rec["recording"]["bytes"], (status, len(body))
    wav = workdir / "recording.wav"
    wav.write_bytes(body)
    left, right, rate = channels(wav)
    assert rate == 8000, rate
    seconds = len(left) / rate
    answered_ms = audio_ms(rec["answered_at"])
    call_seconds = (audio_ms(rec["ended_at"]) - answered_ms) / 1000
    assert abs(seconds - call_seconds) < 1.5, (seconds, call_seconds)
    # atende's prompt on the right from the start; the caller's words on the left after 5 s
    # (baresip starts its file at the answer), and not in the other channel.
    assert audio.window_rms(right, rate, 0.2, 3.0) > 300, "no prompt on the right"
    assert audio.window_rms(left, rate, 5.0, 9.0) > 300, "no caller speech on the left"
    assert audio.window_rms(left, rate, 0.2, 3.0) < 100, "the prompt leaked into the left"
    assert audio.window_rms(right, rate, 5.5, 7.5) < 100, "the caller leaked into the right"
    if audiotool:
        left_wav = audio.write_wav(workdir / "left.wav", left, rate)
        found = audio.find_phrase(word, left_wav, audiotool)
        assert found["score"] >= 0.6, found
        prompt = audio.server_speech_wav(PROMPT, workdir / "prompt.wav", audiotool, wpm=165)
        right_wav = audio.write_wav(workdir / "right.wav", right, rate)
        found = audio.find_phrase(prompt, right_wav, audiotool)
        assert found["score"] >= 0.6, found
    # The transcript was kept too: the prompt as the agent's line.
    lines = [e["detail"] for e in rec["events"] if e["kind"] == "transcript"]
    assert f"agent: {PROMPT}" in lines, rec["events"]
    status, body = api(srv, "/metrics")
    assert b'atende_recordings_total{result="written"} 1' in body

    # A flow without recording: none, and the route says so.
    place_call(srv, workdir, "plain", 3.0)
    assert wait_until(lambda: len(calls(srv)) == 2 and calls(srv)[0].get("ended_at"), 15)
    plain = calls(srv)[0]["id"]
    time.sleep(0.5)  # a recording would be written within the writer's 50 ms poll
    rec = call_json(srv, plain)
    assert rec["recording"] is None and rec["flow"] == "plain", rec
    assert not [e for e in rec["events"] if e["kind"] == "transcript"], rec["events"]
    status, _ = api(srv, f"/api/calls/{plain}/recording")
    assert status == 404, status


def test_transcript_without_audio(server_factory, workdir):
    srv = start(server_factory, workdir)
    place_call(srv, workdir, "words", 3.0)
    assert wait_until(lambda: calls(srv) and calls(srv)[0].get("ended_at"), 15), calls(srv)
    rec = call_json(srv, calls(srv)[0]["id"])
    assert rec["recording"] is None, rec
    assert f"agent: {PROMPT}" in [e["detail"] for e in rec["events"] if e["kind"] == "transcript"]
    assert not list((srv.data_dir / "recordings").rglob("*.wav"))


def test_kill_9_mid_call_keeps_what_reached_the_disk(server_factory, workdir):
    srv = start(server_factory, workdir, recording={"retention_days": 30})
    word = audio.make_speech_wav(CALLER_WORDS, workdir / "words.wav")
    mic = workdir / "mic.wav"
    audio.place_wavs(mic, [(1.0, word)], 40)
    phone = Baresip(workdir, mic, max_seconds=60).start()
    try:
        assert phone.dial(f"sip:recorded@{srv.sip_target}") is not None, phone.log()
        time.sleep(4.0)
        partial = list((srv.data_dir / "recordings" / "partial").glob("*.wav"))
        assert len(partial) == 1, partial
        srv.kill()
    finally:
        # The server is gone: a BYE would wait for an answer that never comes.
        phone.proc.kill()
        phone.proc.wait(10)
    size = partial[0].stat().st_size
    assert size > 44 + 2 * 2 * 8000, size  # more than a second reached the file
    with open(partial[0], "rb") as f:
        assert f.read(44)[40:44] == b"\0\0\0\0"  # the header was never finished
    call_id = partial[0].name[11:-4]
    again = server_factory(extra_args=list(srv.extra_args), data_dir=srv.data_dir)
    assert wait_until(lambda: (call_json(again, call_id) or {}).get("recording"), 15), \
        call_json(again, call_id)
    rec = call_json(again, call_id)
    assert rec["end_reason"] == "server_restart", rec
    status, body = api(again, f"/api/calls/{call_id}/recording")
    assert status == 200 and len(body) == size - size % 4, (status, len(body), size)
    wav = workdir / "repaired.wav"
    wav.write_bytes(body)
    left, right, rate = channels(wav)  # a valid header: Python's wave reads it
    assert len(left) == (size - 44) // 4
    assert not list((again.data_dir / "recordings" / "partial").glob("*.wav"))


def audio_ms(iso):
    """Unix ms of the API's ISO-8601 UTC times ("2026-12-05T10:00:00.123Z")."""
    import datetime
    t = datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)
    return int(t.timestamp() * 1000)
