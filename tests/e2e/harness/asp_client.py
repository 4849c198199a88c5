"""An ASP client (the media-server side of docs/asp.md), written from docs/asp.md alone, on a
WebSocket of its own (RFC 6455 over a plain socket: Python's standard library only), so the
tests do not trust atende's WebSocket code to check itself.

    c = AspClient("127.0.0.1", port, token=TOKEN, to="echo").connect()
    c.open_session(rate=8000)               # capabilities, session.start, session.started
    c.play_wav("hello.wav")                 # 20 ms binary frames in real time
    c.send_json({"type": "audio.end"})
    c.wait_type("response.end")
    c.end_session()                         # session.end -> session.ended, close 1000

It also speaks raw bytes (send_raw, send_frame with any opcode) for the hostile cases."""
import base64
import hashlib
import json
import os
import socket
import struct
import threading
import time
import uuid
import wave

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class HandshakeRefused(Exception):
    def __init__(self, status, body):
        super().__init__(f"upgrade refused: {status} {body[:200]!r}")
        self.status = status
        self.body = body


def browser_subprotocols(token):
    """What a browser offers (docs/asp.md "Connecting"): new WebSocket(url, these)."""
    b64 = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
    return ["atende-asp", "bearer." + b64]


class AspClient:
    def __init__(self, host, port, *, token=None, to=None, path="/asp", rcvbuf=None,
                 subprotocols=None):
        """subprotocols: a list for Sec-WebSocket-Protocol, as a browser sends it
        (browser_subprotocols(token) gives the docs/asp.md pair); the chosen one, from the
        server's reply, lands in self.subprotocol."""
        self.host, self.port, self.token = host, port, token
        self.subprotocols = subprotocols
        self.subprotocol = None
        self.path = path + (f"?to={to}" if to else "")
        self.rcvbuf = rcvbuf
        self.sock = None
        self.messages = []          # every JSON message received, in order
        self.audio = bytearray()    # every binary payload received, concatenated
        self.audio_frames = 0
        self.audio_during = {}      # response_id -> bytes of audio between start and end
        self.close_code = None      # the server's close frame's code
        self.close_reason = ""
        self.closed = threading.Event()
        self.rate = 8000
        self.session_id = None
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._current_response = None
        self._reader = None
        self._read_paused = False

    # ---- connection ----
    def connect(self, timeout=10.0):
        self.sock = socket.create_connection((self.host, self.port), timeout=timeout)
        if self.rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13"]
        if self.token:
            lines.append(f"Authorization: Bearer {self.token}")
        if self.subprotocols is not None:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(self.subprotocols))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        header, _, rest = head.partition(b"\r\n\r\n")
        status_line = header.split(b"\r\n", 1)[0].decode(errors="replace")
        status = int(status_line.split()[1]) if len(status_line.split()) > 1 else 0
        if status != 101:
            self.sock.close()
            raise HandshakeRefused(status, header + rest)
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        assert accept.encode() in header, "bad Sec-WebSocket-Accept"
        for line in header.split(b"\r\n")[1:]:
            name, _, value = line.decode(errors="replace").partition(":")
            if name.strip().lower() == "sec-websocket-protocol":
                self.subprotocol = value.strip()
        if self.subprotocols and self.subprotocol not in self.subprotocols:
            # RFC 6455 4.1: a client that offered subprotocols fails on any other answer.
            self.sock.close()
            raise HandshakeRefused(101, b"server chose subprotocol %r" % self.subprotocol)
        self._buf = bytearray(rest)
        self.sock.settimeout(None)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        return self

    def _recv_exact(self, n):
        while len(self._buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self._buf += chunk
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _read_frame(self):
        b0, b1 = self._recv_exact(2)
        opcode, masked, n = b0 & 0x0F, b1 & 0x80, b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._recv_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._recv_exact(8))[0]
        mask = self._recv_exact(4) if masked else None
        payload = self._recv_exact(n)
        if mask:
            payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        return b0 & 0x80, opcode, payload

    def _read_loop(self):
        partial, partial_op = b"", None
        try:
            while True:
                while self._read_paused:
                    time.sleep(0.05)
                fin, op, payload = self._read_frame()
                if op == OP_CONT:
                    partial += payload
                    if not fin:
                        continue
                    op, payload, partial = partial_op, partial, b""
                elif not fin:
                    partial, partial_op = payload, op
                    continue
                if op == OP_TEXT:
                    msg = json.loads(payload.decode())
                    with self._lock:
                        self.messages.append(msg)
                        if msg.get("type") == "response.start":
                            self._current_response = msg.get("response_id")
                            self.audio_during.setdefault(self._current_response, 0)
                        elif msg.get("type") == "response.end":
                            self._current_response = None
                elif op == OP_BINARY:
                    with self._lock:
                        self.audio += payload
                        self.audio_frames += 1
                        if self._current_response is not None:
                            self.audio_during[self._current_response] += len(payload)
                elif op == OP_PING:
                    self.send_frame(OP_PONG, payload)
                elif op == OP_CLOSE:
                    if len(payload) >= 2:
                        self.close_code = struct.unpack("!H", payload[:2])[0]
                        self.close_reason = payload[2:].decode(errors="replace")
                    else:
                        self.close_code = 1005
                    try:
                        self.send_frame(OP_CLOSE, payload[:2])
                    except OSError:
                        pass
                    break
        except (EOFError, OSError, ValueError):
            pass
        finally:
            self.closed.set()

    def pause_reading(self):
        """Stop reading the socket (a peer that stops reading what atende sends)."""
        self._read_paused = True

    # ---- sending ----
    def send_frame(self, opcode, payload, *, fin=True):
        header = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        self.send_raw(header + mask + masked)

    def send_raw(self, data):
        with self._send_lock:
            self.sock.sendall(data)

    def send_json(self, obj):
        self.send_frame(OP_TEXT, json.dumps(obj).encode())

    def send_audio(self, pcm_bytes):
        self.send_frame(OP_BINARY, pcm_bytes)

    def start_session(self, *, rate=8000, session_id=None, version="1.0.0", to=None, **extra):
        self.rate = rate
        self.session_id = session_id or str(uuid.uuid4())
        msg = {"type": "session.start", "version": version, "session_id": self.session_id,
               "audio": {"sample_rate": rate, "encoding": "pcm_s16le", "channels": 1,
                         "frame_ms": 20},
               "vad": {"silence_threshold_ms": 500}, "features": ["barge_in"]}
        if to:
            msg["to"] = to
        msg.update(extra)
        self.send_json(msg)
        return self

    def open_session(self, **start):
        """The opening every session makes: the server's capabilities, session.start (with
        `start`, as start_session takes it), session.started accepted. Returns that message."""
        assert self.wait_type("protocol.capabilities"), self.messages
        self.start_session(**start)
        started = self.wait_type("session.started")
        assert started and started["status"] == "accepted", self.messages
        return started

    def play_pcm(self, pcm, realtime=True, frame_ms=20):
        """pcm: bytes of 16-bit LE samples at self.rate; sent as 20 ms frames in real time."""
        step = self.rate * frame_ms // 1000 * 2
        t0 = time.monotonic()
        for i, off in enumerate(range(0, len(pcm), step)):
            if self.closed.is_set():
                return False
            chunk = pcm[off:off + step]
            if len(chunk) % 2:
                chunk = chunk[:-1]
            try:
                self.send_audio(chunk)
            except OSError:
                return False
            if realtime:
                delay = t0 + (i + 1) * frame_ms / 1000 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        return True

    def play_wav(self, path, realtime=True):
        with wave.open(str(path), "rb") as w:
            assert w.getframerate() == self.rate and w.getnchannels() == 1
            return self.play_pcm(w.readframes(w.getnframes()), realtime)

    def play_silence(self, seconds, realtime=True):
        return self.play_pcm(b"\0\0" * int(self.rate * seconds), realtime)

    def end_session(self, reason="hangup", timeout=10.0):
        self.send_json({"type": "session.end", "reason": reason})
        ended = self.wait_type("session.ended", timeout)
        self.closed.wait(timeout)
        return ended

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # ---- what came ----
    def types(self):
        with self._lock:
            return [m.get("type") for m in self.messages]

    def find(self, type_):
        with self._lock:
            return [m for m in self.messages if m.get("type") == type_]

    def wait_type(self, type_, timeout=10.0, count=1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.find(type_)
            if len(found) >= count:
                return found[count - 1]
            if self.closed.is_set() and len(self.find(type_)) < count:
                break
            time.sleep(0.02)
        found = self.find(type_)
        return found[count - 1] if len(found) >= count else None

    def transcripts(self, role=None):
        """The transcript messages (feature "transcripts"), optionally of one role."""
        return [m for m in self.find("transcript") if role is None or m.get("role") == role]

    def wait_transcript(self, role, predicate=lambda text: True, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.transcripts(role):
                if predicate(m.get("text", "")):
                    return m
            if self.closed.is_set():
                break
            time.sleep(0.05)
        return None

    def audio_seconds(self):
        with self._lock:
            return len(self.audio) / 2 / self.rate

    def received_wav(self, path):
        with self._lock:
            data = bytes(self.audio)
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.rate)
            w.writeframes(data)
        return path

    def wait_closed(self, timeout=10.0):
        return self.closed.wait(timeout)
