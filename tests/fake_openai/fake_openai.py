#!/usr/bin/env python3
"""A fake OpenAI-compatible server for atende's tests (Python 3 standard library only).

Speaks the exact wire formats atende's clients use:
  POST /v1/chat/completions     stream: SSE `data: {chat.completion.chunk}\\n\\n` ... `data: [DONE]`
                                (chunked transfer encoding, like api.openai.com)
  POST /v1/audio/transcriptions multipart/form-data (file, model, ...) -> {"text": ...}
  POST /v1/audio/speech         {"model","input","voice","response_format":"pcm"} -> streamed
                                raw PCM16 LE mono (24 kHz unless scripted otherwise)
  POST /tools/<name>            a flow-defined HTTP tool: the JSON arguments in, a scripted
                                JSON answer out (delays, failures)
Answers are scripted (see README.md): a JSON script file given with --script, and/or
POST /control/script at run time. Every request is logged: GET /control/requests.

Starts on --port (0: any free port) and prints `PORT <n>` as its first stdout line.
"""
import argparse
import functools
import json
import math
import select
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 32 * 1024 * 1024


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.queues = {"chat": [], "speech": [], "transcriptions": [], "tools": []}
        self.requests = []
        # A deterministic provider: the same request gets the same answer (see answer_for).
        self.memo = {}
        self.last_upload = None  # (pcm bytes, answer) of the latest transcription

    def add_script(self, script):
        with self.lock:
            for kind in self.queues:
                items = script.get(kind, [])
                if not isinstance(items, list):
                    raise ValueError(f"'{kind}' must be a list")
                self.queues[kind].extend(items)

    def next(self, kind, text=None):
        """The next scripted answer of `kind`. Answers with "input_contains" (speech),
        "user_contains" (chat: the last user message) or "tool" (tools) are taken only by a
        request they match; the others by any."""
        key = {"speech": "input_contains", "chat": "user_contains", "tools": "tool"}.get(kind)
        with self.lock:
            q = self.queues[kind]
            for i, answer in enumerate(q):
                want = answer.get(key) if key else None
                if want is None or (text is not None and
                                    (want == text if kind == "tools" else want in text)):
                    # "keep": the answer serves every such request (benchmarks, many calls).
                    return answer if answer.get("keep") else q.pop(i)
            return None

    def log(self, entry):
        with self.lock:
            self.requests.append(entry)

    def reset(self):
        with self.lock:
            for q in self.queues.values():
                q.clear()
            self.requests.clear()
            self.memo.clear()
            self.last_upload = None

    def answer_for(self, kind, key, text=None):
        """next(), but a request identical to an earlier one (the same chat messages and
        tools) gets that earlier answer again instead of the next scripted one: an
        agent that starts its answer speculatively at a pause sends the same request again
        when the caller goes on and ends the same way. An error answer is not repeated (the
        same request after an error is a retry, which scripts answer in turn)."""
        with self.lock:
            if key in self.memo:
                return self.memo[key]
        answer = self.next(kind, text)
        if answer is not None and not is_failure(answer):
            with self.lock:
                self.memo[key] = answer
        return answer

    def transcription_for(self, pcm):
        """next("transcriptions"), but audio that continues the previous upload (the same
        utterance heard again after more of it arrived: the caller went on after a pause)
        gets the previous answer: the script has one answer per utterance."""
        with self.lock:
            last = self.last_upload
        if last is not None and last[0] and len(pcm) >= len(last[0]) and pcm.startswith(last[0]):
            answer = last[1]
        else:
            answer = self.next("transcriptions") or {}
        with self.lock:
            self.last_upload = (pcm, answer)
        return answer


def is_failure(answer):
    return (int(answer.get("status", 200)) != 200 or answer.get("stall") or
            any(k in answer for k in ("stall_after", "close_after", "error_after",
                                       "stall_after_bytes")))


STATE = State()


def parse_multipart(body, content_type):
    """Returns {name: value} for text fields and {name: {filename, content_type, bytes}}
    for files. Raises ValueError on anything that is not well-formed multipart."""
    boundary = None
    for part in content_type.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        if k.lower() == "boundary":
            boundary = v.strip('"')
    if not boundary:
        raise ValueError("no multipart boundary")
    delim = b"--" + boundary.encode()
    if not body.startswith(delim):
        raise ValueError("body does not start with the boundary")
    fields = {}
    for raw in body.split(delim)[1:]:
        if raw.startswith(b"--"):
            break  # closing delimiter
        if not raw.startswith(b"\r\n"):
            raise ValueError("boundary not followed by CRLF")
        head, sep, content = raw[2:].partition(b"\r\n\r\n")
        if not sep or not content.endswith(b"\r\n"):
            raise ValueError("malformed part")
        content = content[:-2]
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        disp = headers.get("content-disposition", "")
        params = {}
        for item in disp.split(";")[1:]:
            k, _, v = item.strip().partition("=")
            params[k.lower()] = v.strip('"')
        name = params.get("name")
        if not name:
            raise ValueError("part without a name")
        if "filename" in params:
            fields[name] = {"filename": params["filename"],
                            "content_type": headers.get("content-type", ""),
                            "bytes": len(content), "data": content}
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields


def wav_pcm(data):
    """The sample bytes of a WAV upload (its data chunk), or the whole upload if not a WAV."""
    if not isinstance(data, (bytes, bytearray)):
        return b""
    if len(data) < 12 or data[:4] != b"RIFF":
        return bytes(data)
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if cid == b"data":
            return bytes(data[pos + 8:pos + 8 + size])
        pos += 8 + size + (size & 1)
    return b""


def wav_seconds(data):
    """Duration of a PCM16 WAV upload (0 if it is not one)."""
    if not isinstance(data, (bytes, bytearray)) or len(data) < 44 or data[:4] != b"RIFF":
        return 0.0
    channels, rate = struct.unpack_from("<HI", data, 22)
    pos = 12
    while pos + 8 <= len(data):  # find the data chunk: encoders may add others first
        cid, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if cid == b"data":
            size = min(size, len(data) - pos - 8)
            return size / float(2 * max(1, channels) * max(1, rate))
        pos += 8 + size + (size & 1)
    return 0.0


def text_by_seconds(table, seconds):
    """The text of the first [max_seconds, text] row the audio fits in: a recogniser that
    heard more of the sentence says more (speculative end-of-turn tests)."""
    for row in table:
        if seconds <= float(row[0]):
            return str(row[1])
    return str(table[-1][1]) if table else ""


def _tone(n, rate, freq, amplitude):
    return b"".join(struct.pack("<h", int(amplitude * math.sin(2 * math.pi * freq * i / rate)))
                    for i in range(n))


@functools.lru_cache(maxsize=64)
def _tone_second(rate, freq, amplitude):
    return _tone(rate, rate, freq, amplitude)


def tone_pcm(seconds, rate, freq=440.0, amplitude=8000):
    """A sine tone, PCM16 little-endian. A whole number of cycles per second repeats every
    second, so one cached second is cut to length: the per-sample loop held the GIL ~20 ms
    per answer, which delayed the other requests of a busy test or benchmark."""
    n = int(seconds * rate)
    if float(freq).is_integer() and n > 0:
        one = _tone_second(rate, freq, amplitude)
        return (one * (n // rate + 1))[:n * 2]
    return _tone(n, rate, freq, amplitude)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Streamed answers are many small writes: without TCP_NODELAY each waits for the
    # client's delayed ACK (~40 ms), which the latency tests and benches would measure.
    disable_nagle_algorithm = True
    server_version = "fake-openai/1"

    def log_message(self, fmt, *args):  # quiet: tests read /control/requests instead
        pass

    # ---- plumbing ---------------------------------------------------------------------
    def read_body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    def send_json(self, status, obj, extra_headers=()):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_error_answer(self, answer):
        status = int(answer.get("status", 500))
        body = answer.get("body")
        if body is None:
            body = {"error": {"message": answer.get("message", f"scripted failure {status}"),
                              "type": "server_error", "code": None}}
        if isinstance(body, str):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_json(status, body)

    def client_gone(self):
        """True when the client closed its end (a cancelled request): EOF is readable."""
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            return bool(r) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def pause(self, seconds):
        """Sleeps like time.sleep, but notices a client that hangs up meanwhile (raises
        ConnectionResetError, which do_POST logs as `aborted`)."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            if self.client_gone():
                raise ConnectionResetError("client closed the connection")
            time.sleep(min(left, 0.005))

    def start_chunked(self, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.flush()

    def write_chunk(self, data, split=0):
        """One HTTP chunk per write (flushed), or several of `split` bytes each."""
        pieces = [data] if not split else [data[i:i + split] for i in range(0, len(data), split)]
        for p in pieces:
            if p:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(p), p))
                self.wfile.flush()

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def stall(self, answer):
        """Holds the connection open sending nothing, then drops it (no terminating chunk)."""
        time.sleep(float(answer.get("stall_ms", 60000)) / 1000.0)
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ---- routes -----------------------------------------------------------------------
    def do_GET(self):
        if self.path == "/control/requests":
            with STATE.lock:
                self.send_json(200, STATE.requests)
        elif self.path in ("/healthz", "/v1/models"):
            self.send_json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
        else:
            self.send_json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        try:
            body = self.read_body()
        except ValueError as e:
            self.send_json(400, {"error": {"message": str(e)}})
            return
        entry = {"method": "POST", "path": self.path,
                 "headers": {k.lower(): v for k, v in self.headers.items()}}
        try:
            if self.path == "/control/script":
                STATE.add_script(json.loads(body or b"{}"))
                self.send_json(200, {"ok": True})
            elif self.path == "/control/reset":
                STATE.reset()
                self.send_json(200, {"ok": True})
            elif self.path == "/v1/chat/completions":
                entry["json"] = json.loads(body)
                STATE.log(entry)
                self.chat(entry["json"])
            elif self.path == "/v1/audio/speech":
                entry["json"] = json.loads(body)
                STATE.log(entry)
                self.speech(entry["json"], entry)
            elif self.path.startswith("/tools/"):
                entry["json"] = json.loads(body)
                entry["at"] = time.time()
                STATE.log(entry)
                self.tool(self.path[len("/tools/"):], entry["json"])
            elif self.path == "/v1/audio/transcriptions":
                fields = parse_multipart(body, self.headers.get("Content-Type", ""))
                entry["form"] = {k: ({kk: vv for kk, vv in v.items() if kk != "data"}
                                     if isinstance(v, dict) else v) for k, v in fields.items()}
                STATE.log(entry)
                self.transcription(fields)
            else:
                self.send_json(404, {"error": {"message": "not found"}})
        except (ValueError, KeyError, TypeError) as e:  # json.JSONDecodeError is a ValueError
            entry["bad_request"] = str(e)
            STATE.log(entry)
            self.send_json(400, {"error": {"message": f"bad request: {e}"}})
        except (BrokenPipeError, ConnectionResetError):
            # The client hung up (cancellation, timeout): expected in tests, which read it
            # from the request log.
            with STATE.lock:
                entry["aborted"] = True

    # ---- /v1/chat/completions ---------------------------------------------------------
    def chat(self, req):
        last_user = next((m.get("content") for m in reversed(req.get("messages", []))
                          if m.get("role") == "user"), "") or ""
        key = "chat:" + json.dumps([req.get("messages"), req.get("tools")], sort_keys=True)
        answer = STATE.answer_for("chat", key, str(last_user))
        if answer is None:
            answer = {"content": f"You said: {last_user}."}
        self.pause(float(answer.get("delay_headers_ms", 0)) / 1000.0)
        if "status" in answer and int(answer["status"]) != 200:
            self.send_error_answer(answer)
            return
        if not req.get("stream"):
            self.send_json(200, self.whole_completion(req, answer))
            return
        self.start_chunked("text/event-stream")
        split = int(answer.get("byte_split", 0))
        if "raw" in answer:  # verbatim bytes, for malformed-stream tests
            time.sleep(float(answer.get("delay_first_ms", 0)) / 1000.0)
            self.write_chunk(answer["raw"].encode(), split)
            if answer.get("stall"):
                self.stall(answer)
                return
            self.end_chunked()
            return
        events = self.chat_events(req, answer)
        self.pause(float(answer.get("delay_first_ms", 0)) / 1000.0)
        delay = float(answer.get("delay_ms", 0)) / 1000.0
        for i, ev in enumerate(events):
            if "stall_after" in answer and i == int(answer["stall_after"]):
                self.stall(answer)
                return
            if "close_after" in answer and i == int(answer["close_after"]):
                self.end_chunked()  # a clean end of the HTTP body, but no [DONE]
                return
            if "error_after" in answer and i == int(answer["error_after"]):
                ev = {"error": {"message": answer.get("message", "scripted stream error"),
                                "type": "server_error"}}
                self.write_chunk(b"data: " + json.dumps(ev, separators=(",", ":")).encode() + b"\n\n", split)
                self.end_chunked()
                return
            if i and delay:
                self.pause(delay)
            if ev == "[DONE]":
                self.write_chunk(b"data: [DONE]\n\n", split)
            else:
                self.write_chunk(b"data: " + json.dumps(ev, separators=(",", ":")).encode() + b"\n\n", split)
        self.end_chunked()

    def chat_events(self, req, answer):
        model = req.get("model", "fake")
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": model, "system_fingerprint": "fp_fake"}

        def chunk(delta, finish=None):
            return dict(base, choices=[{"index": 0, "delta": delta, "logprobs": None,
                                        "finish_reason": finish}])

        events = [chunk({"role": "assistant", "content": ""})]
        if "chunks" in answer:
            pieces = list(answer["chunks"])
        else:
            words = answer.get("content", "").split(" ")
            pieces = [w if i == 0 else " " + w for i, w in enumerate(words)] if words != [""] else []
        for p in pieces:
            events.append(chunk({"content": p}))
        for idx, call in enumerate(answer.get("tool_calls", [])):
            args = call.get("arguments", "{}")
            if not isinstance(args, str):
                args = json.dumps(args)
            split = int(call.get("split", 8))
            frags = [args[i:i + split] for i in range(0, len(args), split)] or [""]
            first = {"index": idx, "id": call.get("id", f"call_fake{idx}"), "type": "function",
                     "function": {"name": call["name"], "arguments": ""}}
            events.append(chunk({"tool_calls": [first]}))
            for f in frags:
                events.append(chunk({"tool_calls": [{"index": idx, "function": {"arguments": f}}]}))
        finish = answer.get("finish_reason", "tool_calls" if answer.get("tool_calls") else "stop")
        events.append(chunk({}, finish))
        opts = req.get("stream_options") or {}
        if opts.get("include_usage"):
            prompt = sum(len(str(m.get("content") or "")) // 4 + 1 for m in req.get("messages", []))
            completion = max(1, len(pieces))
            events.append(dict(base, choices=[], usage={
                "prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion}))
        events.append("[DONE]")
        return events

    def whole_completion(self, req, answer):
        msg = {"role": "assistant", "content": answer.get("content", "")}
        if answer.get("tool_calls"):
            msg["tool_calls"] = [{"id": c.get("id", f"call_fake{i}"), "type": "function",
                                  "function": {"name": c["name"],
                                               "arguments": c.get("arguments", "{}")
                                               if isinstance(c.get("arguments", "{}"), str)
                                               else json.dumps(c["arguments"])}}
                                 for i, c in enumerate(answer["tool_calls"])]
        return {"id": "chatcmpl-fake", "object": "chat.completion", "model": req.get("model"),
                "choices": [{"index": 0, "message": msg,
                             "finish_reason": "tool_calls" if answer.get("tool_calls") else "stop"}]}

    # ---- /v1/audio/speech -------------------------------------------------------------
    def speech(self, req, entry):
        if not isinstance(req.get("input"), str) or not req["input"]:
            self.send_json(400, {"error": {"message": "input is required"}})
            return
        answer = STATE.next("speech", req["input"]) or {}
        time.sleep(float(answer.get("delay_headers_ms", 0)) / 1000.0)
        if "status" in answer and int(answer["status"]) != 200:
            self.send_error_answer(answer)
            return
        rate = int(answer.get("rate", 24000))
        seconds = float(answer.get("seconds", min(10.0, 0.06 * len(req["input"]))))
        pcm = tone_pcm(seconds, rate, float(answer.get("freq", 440.0)))
        self.start_chunked("audio/pcm" if req.get("response_format") == "pcm" else "audio/mpeg")
        time.sleep(float(answer.get("delay_first_ms", 0)) / 1000.0)
        step = int(answer.get("chunk_bytes", 4801))  # odd: samples split across chunks
        delay = float(answer.get("delay_ms", 0)) / 1000.0
        tail_at = int(answer.get("tail_after_bytes", -1))
        for i in range(0, len(pcm), step):
            if "stall_after_bytes" in answer and i >= int(answer["stall_after_bytes"]):
                self.stall(answer)
                return
            if 0 <= tail_at <= i:  # once: the rest of the audio comes late
                time.sleep(float(answer.get("tail_delay_ms", 0)) / 1000.0)
                tail_at = -1
            elif i and delay:
                time.sleep(delay)
            self.write_chunk(pcm[i:i + step])
            entry.setdefault("first_byte_at", time.time())
        self.end_chunked()
        entry["ended_at"] = time.time()  # wall clock, for tests comparing with the server's

    # ---- /tools/<name> ----------------------------------------------------------------
    def tool(self, name, args):
        """Unscripted: {"ok": true, "tool": name, "arguments": args}. Scripted answer fields:
        "tool" (only for that name), "status", "json" (the body as JSON), "body" (raw text),
        "delay_ms", "stall" + "stall_ms" (no answer, then drop the connection)."""
        answer = STATE.next("tools", name) or {}
        time.sleep(float(answer.get("delay_ms", 0)) / 1000.0)
        if answer.get("stall"):
            self.stall(answer)
            return
        status = int(answer.get("status", 200))
        if "body" in answer:
            data = str(answer["body"]).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_json(status, answer.get("json", {"ok": True, "tool": name, "arguments": args}))

    # ---- /v1/audio/transcriptions -----------------------------------------------------
    def transcription(self, fields):
        if "file" not in fields or not isinstance(fields["file"], dict):
            self.send_json(400, {"error": {"message": "file is required"}})
            return
        answer = STATE.transcription_for(wav_pcm(fields["file"].get("data")))
        self.pause(float(answer.get("delay_ms", 0)) / 1000.0)
        if "status" in answer and int(answer["status"]) != 200:
            self.send_error_answer(answer)
            return
        if answer.get("stall"):
            self.stall(answer)
            return
        text = answer.get("text", "")
        if "by_seconds" in answer:
            text = text_by_seconds(answer["by_seconds"], wav_seconds(fields["file"].get("data")))
        if fields.get("response_format") == "text":
            data = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_json(200, {"text": text})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--script", help="JSON file: {\"chat\": [...], \"speech\": [...], "
                                     "\"transcriptions\": [...], \"tools\": [...]}")
    ap.add_argument("--exit-on-stdin-eof", action="store_true",
                    help="exit when stdin closes (the test process that started us died)")
    args = ap.parse_args()
    if args.script:
        with open(args.script, encoding="utf-8") as f:
            STATE.add_script(json.load(f))
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    if args.exit_on_stdin_eof:
        def watch():
            sys.stdin.read()
            server.shutdown()
        threading.Thread(target=watch, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
