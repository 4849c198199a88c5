"""Helpers for driving a spoken flow over SIP with baresip: the caller's microphone as one
WAV with each answer placed on a timeline (espeak-ng via tools/audiotool, the same engine
the server speaks with, so prompt lengths can be measured rather than guessed), and
polling the call record for the events a flow writes while the call goes on."""
import array
import json
import subprocess
import time
import wave

from . import http_api

RATE = 8000


def synth(audiotool, workdir, text, *, wpm=165, voice="en-us", name="say"):
    """espeak-ng rendering of `text` at 8 kHz: a list of samples."""
    out = workdir / f"{name}.wav"
    subprocess.run([str(audiotool), "say", "--voice", voice, "--wpm", str(wpm), "--rate",
                    str(RATE), "--text", text, "--out", str(out)], check=True, timeout=30)
    with wave.open(str(out)) as w:
        return list(memoryview(w.readframes(w.getnframes())).cast("h"))


def seconds(audiotool, workdir, text, *, wpm, voice="en-us"):
    """How long the server takes to say `text` (its flows set the words per minute)."""
    return len(synth(audiotool, workdir, text, wpm=wpm, voice=voice, name="measure")) / RATE


def timeline_wav(audiotool, workdir, answers, *, total_seconds):
    """A mono 8 kHz WAV of silence with each (start_seconds, text) spoken at its start."""
    samples = [0] * int(total_seconds * RATE)
    for i, (start, text) in enumerate(answers):
        values = synth(audiotool, workdir, text, name=f"answer{i}")
        offset = int(start * RATE)
        samples[offset:offset + len(values)] = values
    mic = workdir / "mic.wav"
    with wave.open(str(mic), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(array.array("h", samples).tobytes())
    return mic


def silent_wav(workdir, total_seconds):
    return timeline_wav(None, workdir, [], total_seconds=total_seconds)


def current_call(server, timeout=10.0):
    """The id of the newest call, once the server has one."""
    calls = http_api.wait_calls(server.http_base, lambda c: bool(c), timeout)
    assert calls, "no call reached the server"
    return calls[0]["id"]


def record(server, call_id):
    return http_api.get_json(f"{server.http_base}/api/calls/{call_id}")


def wait_event(server, call_id, kind, detail=None, timeout=30.0):
    """Polls the call record until an event of `kind` (and `detail`) is there; the record."""
    deadline = time.monotonic() + timeout
    while True:
        rec = record(server, call_id)
        if any(e["kind"] == kind and (detail is None or e["detail"] == detail)
               for e in rec["events"]):
            return rec
        if time.monotonic() > deadline:
            raise AssertionError(f"no event {kind} {detail or ''} within {timeout} s: "
                                 f"{[(e['kind'], e['detail']) for e in rec['events']]}")
        time.sleep(0.2)


def wait_ended(server, call_id, timeout):
    """The call record once the call has ended (or the last one seen after `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        rec = record(server, call_id)
        if rec.get("ended_at") or time.monotonic() > deadline:
            return rec
        time.sleep(0.5)


def details(rec, kind):
    return [e["detail"] for e in rec["events"] if e["kind"] == kind]


def recorded(rec, kind):
    """The slots of the first `kind` event a record step wrote (JSON), or None."""
    found = details(rec, kind)
    return json.loads(found[0]) if found else None
