#!/usr/bin/env python3
"""A fake OpenAI Realtime server for atende's tests (Python 3 standard library only).

Written from the public Realtime API event reference (GA event names): one WebSocket per
session at GET /v1/realtime (RFC 6455, text frames of JSON events).

  client -> server, acted on: session.update, input_audio_buffer.append (base64 pcm16 24 kHz),
    input_audio_buffer.commit, response.create, response.cancel, conversation.item.truncate,
    conversation.item.create (function_call_output), conversation.item.delete,
    input_audio_buffer.clear
  server -> client: session.created, session.updated, input_audio_buffer.speech_started /
    speech_stopped / committed (server VAD: energy of the caller's audio, the session's
    silence_duration_ms), conversation.item.created, conversation.item.input_audio_transcription
    .completed, response.created, response.output_item.added, response.output_audio.delta,
    response.output_audio_transcript.delta / .done, response.output_audio.done,
    response.function_call_arguments.done, response.done, conversation.item.truncated,
    conversation.item.deleted, input_audio_buffer.cleared, error

Responses are scripted, in order (POST /control/script, or --script FILE):
  {"responses": [{"say": "text", "seconds": 2.0} | {"tool_call": {"name": ..., "arguments": {...}}}],
   "transcripts": ["what the caller said in turn 1", ...]}
Every response (asked by response.create or by the server VAD) takes the next entry. Audio
is a tone whose length is `seconds`, streamed in 100 ms deltas at real-time pace (so a
barge-in finds the response still running), with the transcript's words spread over it.
Whatever the client sent is logged (audio appends summarised): GET /control/received.

Provider timing, opt-in (the tests use neither; benchmarks, bench/voice_to_voice.py, do):
  --profile instant|real   the first audio delta at once after response.created (instant,
                           also the default) or 300 ms after it (real: a real model's first
                           audio); --first-audio-ms N sets that wait exactly. A response's
                           own `delay_first_ms` in the script overrides both.
  --transcript-ms N        the caller's transcript N ms after the commit (default at once).
  --quiet-audio            audio appends are not logged (hours of calls would fill memory).

Starts on --port (0: any free port) and prints `PORT <n>` as its first stdout line. With
--tls-cert FILE --tls-key FILE it also listens with TLS (wss://, same endpoints) on a free
port, printed next as `TLS_PORT <n>` (tls_listener.py); the control endpoints stay on PORT.
"""
import base64
import functools
import json
import math
import struct
import threading
import time
import warnings

import ws_server

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop  # C speed for the server VAD's energy (gone in Python 3.13)
    except ImportError:
        audioop = None

RATE = 24000
CHUNK_S = 0.1
PROFILES = {"instant": 0, "real": 300}  # ms from response.created to the first audio delta


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.responses = []
        self.transcripts = []
        self.received = []
        self.first_audio_ms = 0  # --profile / --first-audio-ms
        self.transcript_ms = 0   # --transcript-ms
        self.log_audio = True    # --quiet-audio: False

    def add_script(self, s):
        with self.lock:
            self.responses += s.get("responses", [])
            self.transcripts += s.get("transcripts", [])

    def log(self, event):
        with self.lock:
            self.received.append(event)


STATE = State()


def rms(frame):
    """Root mean square of pcm16 LE mono bytes."""
    if audioop is not None:
        return audioop.rms(frame, 2)
    samples = struct.unpack(f"<{len(frame) // 2}h", frame)
    return math.sqrt(sum(s * s for s in samples) / len(samples))


@functools.lru_cache(maxsize=16)
def tone(seconds):
    n = int(seconds * RATE)
    # A warbling tone: loud enough to hear, clearly not silence.
    return b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * (300 + 50 * math.sin(i / 2400.0)) * i / RATE)))
                    for i in range(n))


class Session:
    def __init__(self, ws):
        self.ws = ws
        self.ids = 0
        self.config = {}
        self.lock = threading.Lock()
        self.active = None          # the running response: {"id", "cancel": Event}
        self.speaking = False
        self.voiced = 0
        self.quiet = 0
        self.audio_ms = 0

    def next_id(self, prefix):
        self.ids += 1
        return f"{prefix}_{self.ids:04d}"

    def turn_detection(self):
        return ((self.config.get("audio") or {}).get("input") or {}).get("turn_detection")

    # ---- client events ----
    def run(self):
        self.ws.send({"type": "session.created", "event_id": self.next_id("event"),
                      "session": {"id": "sess_fake", "type": "realtime"}})
        while True:
            text = self.ws.recv_text()
            if text is None:
                break
            try:
                ev = json.loads(text)
                kind = ev["type"]
            except (ValueError, KeyError, TypeError):
                self.error("invalid_request_error", "invalid_json", "not a JSON event")
                continue
            if kind == "input_audio_buffer.append":
                pcm = base64.b64decode(ev.get("audio", ""))
                if STATE.log_audio:
                    STATE.log({"type": kind, "bytes": len(pcm)})
                self.on_audio(pcm)
                continue
            STATE.log(ev)
            handler = getattr(self, "on_" + kind.replace(".", "_"), None)
            if handler is None:
                self.error("invalid_request_error", "unknown_event", f"unknown event {kind}")
            else:
                handler(ev)
        with self.lock:
            if self.active:
                self.active["cancel"].set()

    def error(self, type_, code, message):
        self.ws.send({"type": "error", "event_id": self.next_id("event"),
                      "error": {"type": type_, "code": code, "message": message}})

    def on_session_update(self, ev):
        self.config.update(ev.get("session", {}))
        self.ws.send({"type": "session.updated", "event_id": self.next_id("event"),
                      "session": self.config})

    def on_input_audio_buffer_commit(self, ev):
        item = self.next_id("item")
        self.ws.send({"type": "input_audio_buffer.committed", "item_id": item})
        self.user_item(item)

    def on_input_audio_buffer_clear(self, ev):
        self.ws.send({"type": "input_audio_buffer.cleared", "event_id": self.next_id("event")})

    def on_response_create(self, ev):
        self.start_response()

    def on_response_cancel(self, ev):
        with self.lock:
            active = self.active
        if not active:
            self.error("invalid_request_error", "response_cancel_not_active",
                       "Cancellation failed: no active response found")
            return
        active["cancel"].set()

    def on_conversation_item_truncate(self, ev):
        self.ws.send({"type": "conversation.item.truncated", "item_id": ev.get("item_id"),
                      "content_index": ev.get("content_index", 0),
                      "audio_end_ms": ev.get("audio_end_ms", 0)})

    def on_conversation_item_delete(self, ev):
        self.ws.send({"type": "conversation.item.deleted", "event_id": self.next_id("event"),
                      "item_id": ev.get("item_id")})

    def on_conversation_item_create(self, ev):
        item = dict(ev.get("item", {}))
        item.setdefault("id", self.next_id("item"))
        self.ws.send({"type": "conversation.item.created", "item": item})

    # ---- server VAD ----
    def on_audio(self, pcm):
        td = self.turn_detection()
        if not td or td.get("type") != "server_vad":
            return
        silence_ms = td.get("silence_duration_ms", 500)
        frame = RATE // 50 * 2  # 20 ms of bytes
        for off in range(0, len(pcm) - frame + 1, frame):
            self.audio_ms += 20
            if rms(pcm[off:off + frame]) > 400:
                self.voiced += 1
                self.quiet = 0
            else:
                self.quiet += 1
                self.voiced = 0
            if not self.speaking and self.voiced >= 3:
                self.speaking = True
                self.item = self.next_id("item")
                self.ws.send({"type": "input_audio_buffer.speech_started",
                              "audio_start_ms": self.audio_ms - 60, "item_id": self.item})
                with self.lock:
                    active = self.active
                if active and td.get("interrupt_response", True):
                    active["cancel"].set()
            elif self.speaking and self.quiet * 20 >= silence_ms:
                self.speaking = False
                self.ws.send({"type": "input_audio_buffer.speech_stopped",
                              "audio_end_ms": self.audio_ms - silence_ms, "item_id": self.item})
                self.ws.send({"type": "input_audio_buffer.committed", "item_id": self.item})
                self.user_item(self.item)
                if td.get("create_response", True):
                    self.start_response()

    def user_item(self, item):
        self.ws.send({"type": "conversation.item.created",
                      "item": {"id": item, "type": "message", "role": "user",
                               "content": [{"type": "input_audio", "transcript": None}]}})
        with STATE.lock:
            said = STATE.transcripts.pop(0) if STATE.transcripts else ""
        if said:
            event = {"type": "conversation.item.input_audio_transcription.completed",
                     "item_id": item, "content_index": 0, "transcript": said}
            if STATE.transcript_ms > 0:  # a real transcription model takes a while
                threading.Timer(STATE.transcript_ms / 1000.0, self.ws.send, (event,)).start()
            else:
                self.ws.send(event)

    # ---- responses ----
    def start_response(self):
        with self.lock:
            if self.active:
                self.error("invalid_request_error", "conversation_already_has_active_response",
                           "Conversation already has an active response")
                return
            with STATE.lock:
                script = STATE.responses.pop(0) if STATE.responses else {"say": "Okay.",
                                                                          "seconds": 1.0}
            self.active = {"id": self.next_id("resp"), "cancel": threading.Event()}
            active = self.active
        threading.Thread(target=self.respond, args=(active, script), daemon=True).start()

    def respond(self, active, script):
        rid = active["id"]
        self.ws.send({"type": "response.created",
                      "response": {"id": rid, "object": "realtime.response", "status": "in_progress",
                                   "output": []}})
        status = "completed"
        if "tool_call" in script:
            call = script["tool_call"]
            item = self.next_id("item")
            call_id = call.get("call_id", self.next_id("call"))
            self.ws.send({"type": "response.output_item.added", "response_id": rid,
                          "output_index": 0,
                          "item": {"id": item, "type": "function_call", "call_id": call_id,
                                   "name": call["name"], "arguments": ""}})
            self.ws.send({"type": "response.function_call_arguments.done", "response_id": rid,
                          "item_id": item, "output_index": 0, "call_id": call_id,
                          "name": call["name"], "arguments": json.dumps(call["arguments"])})
        else:
            item = self.next_id("item")
            text = script.get("say", "")
            words = text.split()
            pcm = tone(float(script.get("seconds", 1.0)))
            self.ws.send({"type": "response.output_item.added", "response_id": rid,
                          "output_index": 0,
                          "item": {"id": item, "type": "message", "role": "assistant",
                                   "content": []}})
            step = int(CHUNK_S * RATE) * 2
            chunks = max(1, (len(pcm) + step - 1) // step)
            sent_words = 0
            # A real model's first audio comes a while after response.created.
            delay_ms = float(script.get("delay_first_ms", STATE.first_audio_ms))
            if delay_ms > 0 and active["cancel"].wait(delay_ms / 1000.0):
                status = "cancelled"
                chunks = 0
            start = time.monotonic()
            for i in range(chunks):
                if active["cancel"].is_set():
                    status = "cancelled"
                    break
                self.ws.send({"type": "response.output_audio.delta", "response_id": rid,
                              "item_id": item, "output_index": 0, "content_index": 0,
                              "delta": base64.b64encode(pcm[i * step:(i + 1) * step]).decode()})
                upto = len(words) * (i + 1) // chunks
                if upto > sent_words:
                    self.ws.send({"type": "response.output_audio_transcript.delta",
                                  "response_id": rid, "item_id": item, "output_index": 0,
                                  "content_index": 0,
                                  "delta": (" " if sent_words else "") +
                                           " ".join(words[sent_words:upto])})
                    sent_words = upto
                # Real-time pace after a 300 ms head start.
                wait = start + (i + 1) * CHUNK_S - 0.3 - time.monotonic()
                if wait > 0:
                    active["cancel"].wait(wait)
            if status == "completed":
                self.ws.send({"type": "response.output_audio.done", "response_id": rid,
                              "item_id": item, "output_index": 0, "content_index": 0})
                self.ws.send({"type": "response.output_audio_transcript.done", "response_id": rid,
                              "item_id": item, "output_index": 0, "content_index": 0,
                              "transcript": text})
        with self.lock:
            self.active = None
        self.ws.send({"type": "response.done",
                      "response": {"id": rid, "object": "realtime.response", "status": status}})


class Handler(ws_server.Handler):
    def do_GET(self):
        if self.path == "/control/received":
            with STATE.lock:
                return self.reply(200, list(STATE.received))
        if self.path.startswith("/v1/realtime"):
            if not self.wants_websocket():
                return self.reply(426, {"error": "upgrade required"})
            STATE.log({"type": "_connect", "path": self.path,
                       "authorization": self.headers.get("Authorization", "")})
            Session(self.accept_websocket()).run()
            self.close_connection = True
            return
        self.reply(404, {"error": "not found"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(min(n, 1 << 20))
        if self.path == "/control/script":
            STATE.add_script(json.loads(body))
            return self.reply(200, {"ok": True})
        self.reply(404, {"error": "not found"})


def add_arguments(ap):
    ap.add_argument("--profile", choices=sorted(PROFILES), default="instant",
                    help="the first audio delta's delay after response.created")
    ap.add_argument("--first-audio-ms", type=float,
                    help="that delay in ms (overrides --profile)")
    ap.add_argument("--transcript-ms", type=float, default=0,
                    help="the caller's transcript this long after the commit (default at once)")
    ap.add_argument("--quiet-audio", action="store_true",
                    help="do not log audio appends in /control/received")


def configure(args):
    STATE.first_audio_ms = (args.first_audio_ms if args.first_audio_ms is not None
                            else PROFILES[args.profile])
    STATE.transcript_ms = args.transcript_ms
    STATE.log_audio = not args.quiet_audio


def main():
    ws_server.serve(Handler, STATE.add_script, add_arguments, configure)


if __name__ == "__main__":
    main()
