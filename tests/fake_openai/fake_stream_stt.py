#!/usr/bin/env python3
"""A fake streaming speech-to-text server for atende's tests (Python 3 standard library only).

Two wire formats, written from their public references (docs/stt.md "Streaming recognition"):

  GET /v1/realtime?intent=transcription  OpenAI Realtime transcription session (WebSocket,
    JSON text events). Acted on: session.update (type transcription) or the older
    transcription_session.update, input_audio_buffer.append (base64 pcm16 24 kHz),
    input_audio_buffer.commit. Sent: session.created, session.updated,
    conversation.item.input_audio_transcription.delta (partials, while audio arrives and
    after the commit), input_audio_buffer.committed, ...transcription.completed, error
    (input_audio_buffer_commit_empty for a commit of less than 100 ms; scripted errors).
  GET /v1/listen?encoding=linear16&sample_rate=N&...  Deepgram-style live transcription:
    binary linear16 frames in, {"type": "Results", "is_final", "speech_final", "channel":
    {"alternatives": [{"transcript", "confidence"}]}} out; {"type": "CloseStream"} flushes
    the final Results, sends Metadata and closes; {"type": "Finalize"} flushes only.

Each connection takes the next scripted stream (POST /control/script, or --script FILE):
  {"streams": [{"partials": ["i'd", "i'd like"], "final": "i'd like a table",
                "partial_every_ms": 200, "error": {"code": "x", "message": "y"},
                "hang": false, "garbage": ["not json", "{\"type\": 5}"]}]}
`partials` are whole hypotheses, one per `partial_every_ms` of audio received (OpenAI gets
them as deltas: each must extend the previous); `error` replaces the final; `hang` never
answers the end of the utterance; `garbage` is sent first, as text messages; `oversize: N`
sends one text message of about N bytes first.

GET /control/received: one record per connection: path, authorization, the events the
client sent (audio summarised as bytes), audio_ms, and `end`: how the client ended it
("close_frame": a WebSocket close, "eof": the TCP connection dropped, "server": we closed
after the final). POST /control/reset forgets both.
Starts on --port (0: any free port) and prints `PORT <n>` as its first stdout line. With
--tls-cert FILE --tls-key FILE it also listens with TLS (wss://, same endpoints) on a free
port, printed next as `TLS_PORT <n>` (tls_listener.py); the control endpoints stay on PORT.
"""
import base64
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import ws_server


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.streams = []
        self.received = []

    def next_stream(self):
        with self.lock:
            return self.streams.pop(0) if self.streams else {}

    def add_script(self, script):
        with self.lock:
            self.streams += script.get("streams", [])


STATE = State()


class Stream:
    """What one connection was scripted to say, and what it saw."""

    def __init__(self, ws, record, bytes_per_ms):
        self.ws, self.record = ws, record
        self.script = STATE.next_stream()
        self.partials = list(self.script.get("partials", []))
        self.every = int(self.script.get("partial_every_ms", 200))
        self.bytes_per_ms = bytes_per_ms
        self.audio = 0
        self.sent = 0  # partials sent
        for g in self.script.get("garbage", []):
            ws.send(g)
        if self.script.get("oversize"):
            ws.send('{"type": "Results", "pad": "' + "x" * int(self.script["oversize"]) + '"}')

    def audio_ms(self):
        return self.audio // self.bytes_per_ms

    def add_audio(self, n):
        """Counts audio; returns the partials now due."""
        self.audio += n
        self.record["audio_ms"] = self.audio_ms()
        due = []
        while self.sent < len(self.partials) and self.audio_ms() >= (self.sent + 1) * self.every:
            due.append(self.partials[self.sent])
            self.sent += 1
        return due

    def end_of_utterance(self):
        """The final (None: hang; a dict: an error), after an optional delay."""
        if self.script.get("hang"):
            return None
        time.sleep(self.script.get("delay_ms", 0) / 1000.0)
        if "error" in self.script:
            return self.script["error"]
        return self.script.get("final", "")


def next_message(ws, record):
    """(opcode, data) of the client's next text or binary message; None once the client
    ended the connection (recorded as its `end`, unless we ended it first)."""
    msg = ws.recv()
    if msg is None:
        record["end"] = record.get("end") or "eof"
        return None
    if msg[0] == 8:
        record["end"] = record.get("end") or "close_frame"
        return None
    return msg


def run_openai(ws, record):
    s = Stream(ws, record, 48)  # 24 kHz pcm16
    ids = [0]

    def next_id(prefix):
        ids[0] += 1
        return f"{prefix}_{ids[0]:04d}"

    item = next_id("item")
    said = ""  # what the deltas so far spelled
    ws.send({"type": "session.created", "event_id": next_id("event"),
             "session": {"id": "sess_fake", "type": "transcription"}})
    while True:
        msg = next_message(ws, record)
        if msg is None:
            return
        opcode, data = msg
        if opcode != 1:
            record["events"].append({"type": "_binary", "bytes": len(data)})
            ws.send({"type": "error", "error": {"type": "invalid_request_error",
                                                "code": "binary_not_supported",
                                                "message": "binary frames are not accepted"}})
            continue
        try:
            ev = json.loads(data)
            kind = ev["type"]
        except (ValueError, KeyError, TypeError):
            ws.send({"type": "error", "error": {"type": "invalid_request_error",
                                                "code": "invalid_json", "message": "bad event"}})
            continue
        if kind == "input_audio_buffer.append":
            pcm = base64.b64decode(ev.get("audio", ""))
            record["events"].append({"type": kind, "bytes": len(pcm)})
            for p in s.add_audio(len(pcm)):
                ws.send({"type": "conversation.item.input_audio_transcription.delta",
                         "event_id": next_id("event"), "item_id": item, "content_index": 0,
                         "delta": p[len(said):] if p.startswith(said) else p})
                said = p
            continue
        record["events"].append(ev)
        if kind in ("session.update", "transcription_session.update"):
            ws.send({"type": kind.replace("update", "updated"), "event_id": next_id("event"),
                     "session": ev.get("session", {})})
        elif kind == "input_audio_buffer.commit":
            if s.audio_ms() < 100:
                ws.send({"type": "error", "event_id": next_id("event"),
                         "error": {"type": "invalid_request_error",
                                   "code": "input_audio_buffer_commit_empty",
                                   "message": "buffer too small: expected at least 100ms"}})
                continue
            ws.send({"type": "input_audio_buffer.committed", "event_id": next_id("event"),
                     "previous_item_id": None, "item_id": item})
            final = s.end_of_utterance()
            if final is None:
                continue
            if isinstance(final, dict):
                ws.send({"type": "conversation.item.input_audio_transcription.failed",
                         "event_id": next_id("event"), "item_id": item, "content_index": 0,
                         "error": {"type": "transcription_error", "code": final.get("code", ""),
                                   "message": final.get("message", "")}})
                continue
            if final.startswith(said) and len(final) > len(said):
                ws.send({"type": "conversation.item.input_audio_transcription.delta",
                         "event_id": next_id("event"), "item_id": item, "content_index": 0,
                         "delta": final[len(said):]})
            ws.send({"type": "conversation.item.input_audio_transcription.completed",
                     "event_id": next_id("event"), "item_id": item, "content_index": 0,
                     "transcript": final,
                     "usage": {"type": "duration", "seconds": s.audio_ms() / 1000.0}})
        else:
            ws.send({"type": "error", "event_id": next_id("event"),
                     "error": {"type": "invalid_request_error", "code": "unknown_event",
                               "message": f"unknown event {kind}"}})


def results(transcript, is_final, speech_final=False, from_finalize=False):
    return {"type": "Results", "channel_index": [0, 1], "duration": 0.2, "start": 0.0,
            "is_final": is_final, "speech_final": speech_final, "from_finalize": from_finalize,
            "channel": {"alternatives": [{"transcript": transcript, "confidence": 0.98,
                                          "words": []}]},
            "metadata": {"request_id": "fake", "model_info": {"name": "fake"}}}


def run_listen(ws, record, rate):
    s = Stream(ws, record, max(1, rate * 2 // 1000))
    while True:
        msg = next_message(ws, record)
        if msg is None:
            return
        opcode, data = msg
        if opcode == 2:
            record["events"].append({"type": "_audio", "bytes": len(data)})
            for p in s.add_audio(len(data)):
                ws.send(results(p, False))
            continue
        try:
            ev = json.loads(data)
            kind = ev["type"]
        except (ValueError, KeyError, TypeError):
            record["events"].append({"type": "_bad_text"})
            continue
        record["events"].append(ev)
        if kind in ("CloseStream", "Finalize"):
            final = s.end_of_utterance()
            if final is None:
                continue
            if isinstance(final, dict):
                ws.send({"type": "Error", "variant": final.get("code", ""),
                         "description": final.get("message", ""), "message": ""})
                continue
            ws.send(results(final, True, True, kind == "Finalize"))
            if kind == "CloseStream":
                ws.send({"type": "Metadata", "transaction_key": "deprecated",
                         "request_id": "fake", "sha256": "", "created": "",
                         "duration": s.audio_ms() / 1000.0, "channels": 1})
                record["end"] = "server"
                ws.close()


class Handler(ws_server.Handler):
    def do_GET(self):
        if self.path == "/control/received":
            with STATE.lock:
                return self.reply(200, json.loads(json.dumps(STATE.received)))
        url = urlsplit(self.path)
        if url.path not in ("/v1/realtime", "/v1/listen"):
            return self.reply(404, {"error": "not found"})
        if not self.wants_websocket():
            return self.reply(426, {"error": "upgrade required"})
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/v1/listen" and query.get("encoding") != "linear16":
            return self.reply(400, {"err_code": "Bad Request", "err_msg": "encoding"})
        record = {"path": self.path, "query": query,
                  "authorization": self.headers.get("Authorization", ""),
                  "events": [], "audio_ms": 0, "end": None}
        with STATE.lock:
            STATE.received.append(record)
        ws = self.accept_websocket()
        try:
            if url.path == "/v1/listen":
                run_listen(ws, record, int(query.get("sample_rate", "16000")))
            else:
                run_openai(ws, record)
        except (OSError, ValueError):
            record["end"] = record.get("end") or "eof"
        self.close_connection = True

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(min(n, 1 << 20))
        if self.path == "/control/script":
            STATE.add_script(json.loads(body))
            return self.reply(200, {"ok": True})
        if self.path == "/control/reset":
            with STATE.lock:
                STATE.streams, STATE.received = [], []
            return self.reply(200, {"ok": True})
        self.reply(404, {"error": "not found"})


def main():
    ws_server.serve(Handler, STATE.add_script)


if __name__ == "__main__":
    main()
