"""What the WebSocket fakes (fake_realtime.py, fake_stream_stt.py) share, Python 3 standard
library only: the server side of RFC 6455 (handshake and framing), an HTTP handler base
with JSON replies, and the start-up contract of every fake in this folder (--port, 0: any
free port; `PORT <n>` as the first stdout line; --script FILE; --exit-on-stdin-eof).

Imported by the fakes as a sibling module: each fake stays runnable as a script
(`python3 tests/fake_openai/fake_realtime.py`), since Python puts the script's folder first
on the import path.
"""
import argparse
import base64
import hashlib
import json
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MESSAGE = 4 * 1024 * 1024  # a client's message larger than this drops the connection


def unmask(payload, mask):
    """RFC 6455 5.3: the payload XORed with the 4-byte mask, repeated. Done as one big-integer
    XOR (C speed): a byte loop in Python costs a core at a benchmark's hundreds of calls."""
    n = len(payload)
    if n == 0:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(
        n, "little")


class Socket:
    """The server side of one RFC 6455 connection: unmasked frames out, masked frames in."""

    def __init__(self, rfile, wfile):
        self.rfile, self.wfile = rfile, wfile
        self.wlock = threading.Lock()
        self.closed = False  # we sent a close frame

    def recv(self):
        """(opcode, bytes) of the next whole message: 1 text, 2 binary, 8 close (answered
        with a close frame unless we sent one first); None at EOF or on a protocol error.
        Pings are answered, pongs skipped."""
        message, first = b"", None
        while True:
            head = self.rfile.read(2)
            if len(head) < 2:
                return None
            fin, opcode = head[0] & 0x80, head[0] & 0x0F
            masked, n = head[1] & 0x80, head[1] & 0x7F
            if n == 126:
                n = struct.unpack("!H", self.rfile.read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self.rfile.read(8))[0]
            if not masked or len(message) + n > MAX_MESSAGE:
                return None  # RFC 6455: client frames must be masked
            mask = self.rfile.read(4)
            data = unmask(self.rfile.read(n), mask)
            if opcode == 0x8:
                if not self.closed:
                    self.send_frame(0x8, bytes(data[:2]))
                return (8, bytes(data))
            if opcode == 0x9:
                self.send_frame(0xA, bytes(data))
                continue
            if opcode == 0xA:
                continue
            if opcode in (1, 2):
                first = opcode
            message += bytes(data)
            if fin:
                return (first or 1, message)

    def recv_text(self):
        """The next message as text (UTF-8), or None when the peer closed or went away."""
        msg = self.recv()
        if msg is None or msg[0] == 8:
            return None
        return msg[1].decode("utf-8")

    def send_frame(self, opcode, payload):
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([n])
        elif n < 65536:
            head += bytes([126]) + struct.pack("!H", n)
        else:
            head += bytes([127]) + struct.pack("!Q", n)
        with self.wlock:
            try:
                self.wfile.write(head + payload)
                self.wfile.flush()
            except OSError:
                pass

    def send(self, event):
        """A text message: `event` as it is if a str, else as JSON."""
        self.send_frame(0x1, (event if isinstance(event, str) else json.dumps(event)).encode())

    def close(self):
        """Server-initiated close (1000)."""
        self.closed = True
        self.send_frame(0x8, struct.pack("!H", 1000))


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1, quiet, with JSON replies and the WebSocket upgrade."""

    protocol_version = "HTTP/1.1"
    # Events are many small writes: without TCP_NODELAY each waits for the client's delayed
    # ACK (~40 ms), which benchmarks (bench/voice_to_voice.py) would measure as latency.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def wants_websocket(self):
        """The request asks for a WebSocket upgrade (else answer 426)."""
        return (self.headers.get("Upgrade", "").lower() == "websocket"
                and bool(self.headers.get("Sec-WebSocket-Key")))

    def accept_websocket(self):
        """Answers 101 Switching Protocols; the Socket that now speaks on the connection."""
        key = self.headers.get("Sec-WebSocket-Key")
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        return Socket(self.rfile, self.wfile)


def serve(handler, add_script, add_arguments=None, configure=None):
    """The fakes' main: parses --port, --script FILE (its JSON goes to add_script),
    --exit-on-stdin-eof and --tls-cert/--tls-key, prints `PORT <n>` (then `TLS_PORT <n>` for
    the TLS listener, tls_listener.py) and serves until killed (or stdin closes). A fake's
    own flags: add_arguments(parser) adds them, configure(args) reads them."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--script")
    ap.add_argument("--exit-on-stdin-eof", action="store_true")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    if add_arguments:
        add_arguments(ap)
    args = ap.parse_args()
    if configure:
        configure(args)
    if args.script:
        with open(args.script) as f:
            add_script(json.load(f))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    if args.tls_cert:
        from tls_listener import start_tls
        start_tls(handler, "127.0.0.1", args.tls_cert, args.tls_key)
    if args.exit_on_stdin_eof:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        sys.stdin.read()
        server.shutdown()
    else:
        server.serve_forever()
