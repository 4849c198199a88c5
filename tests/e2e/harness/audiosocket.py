"""An AudioSocket peer that behaves as Asterisk's AudioSocket() application does, byte for
byte: it connects, sends the 16-byte UUID first, then one 20 ms signed-linear frame
(type 0x10, 320 bytes at 8 kHz, little-endian) every 20 ms in real time from its
"microphone" (a WAV, then silence), DTMF as type 0x03 with one ASCII digit, and 0x00 to hang
up. Everything received is kept: audio into a WAV-able buffer, DTMF, and whether the server
hung up (0x00), sent an error (0xff) or closed the socket.

Also a server (AudioSocketServer) for atende's client role: it accepts one connection and
then behaves like the client above (minus the UUID, which atende sends)."""
import socket
import struct
import threading
import time
import uuid as uuidlib

from .audio import read_wav, write_wav

HANGUP, UUID, DTMF, AUDIO, ERROR = 0x00, 0x01, 0x03, 0x10, 0xFF
RATES = {0x10: 8000, 0x11: 12000, 0x12: 16000, 0x13: 24000, 0x14: 32000, 0x15: 44100,
         0x16: 48000, 0x17: 96000, 0x18: 192000}


def frame(kind, payload=b""):
    return struct.pack("!BH", kind, len(payload)) + payload


class _Peer:
    """The two directions of an AudioSocket connection once it is open."""

    def __init__(self, sock, rate=8000, kind=AUDIO):
        self.sock = sock
        self.rate = rate
        self.kind = kind
        self.samples_per_frame = rate // 50
        self.mic = []           # samples still to send
        self.received = bytearray()  # audio bytes as received
        self.frames_in = 0
        self.kinds_in = []      # every message type received, in order (audio collapsed)
        self.digits = []
        self.errors = []        # payloads of 0xff messages
        self.hangup_received = False
        self.closed = threading.Event()  # the server closed the socket (EOF)
        self.stop_sending = threading.Event()
        self.paused_reading = threading.Event()
        self.lock = threading.Lock()
        self.send_errors = None

    def start(self):
        threading.Thread(target=self._send_loop, daemon=True).start()
        threading.Thread(target=self._recv_loop, daemon=True).start()
        return self

    # -- sending (the "microphone") --
    def play_wav(self, path):
        samples, rate = read_wav(path)
        assert rate == self.rate, (rate, self.rate)
        with self.lock:
            self.mic.extend(samples)

    def send_raw(self, data):
        with self.lock:
            self.sock.sendall(data)

    def dtmf(self, digit):
        self.send_raw(frame(DTMF, digit.encode()))

    def hangup(self):
        self.stop_sending.set()
        try:
            self.send_raw(frame(HANGUP))
        except OSError:
            pass

    def close(self):
        self.stop_sending.set()
        try:
            self.sock.close()
        except OSError:
            pass

    def _send_loop(self):
        next_at = time.monotonic()
        n = self.samples_per_frame
        while not self.stop_sending.is_set() and not self.closed.is_set():
            with self.lock:
                chunk, self.mic = self.mic[:n], self.mic[n:]
            chunk = list(chunk) + [0] * (n - len(chunk))
            try:
                self.send_raw(frame(self.kind, struct.pack(f"<{n}h", *chunk)))
            except OSError as e:
                self.send_errors = e
                return
            next_at += 0.020  # real time from a monotonic clock, as Asterisk paces it
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    # -- receiving --
    def _read_exact(self, n):
        buf = b""
        while len(buf) < n:
            while self.paused_reading.is_set() and not self.stop_sending.is_set():
                time.sleep(0.05)
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def _recv_loop(self):
        try:
            while True:
                head = self._read_exact(3)
                if head is None:
                    break
                kind, length = struct.unpack("!BH", head)
                payload = self._read_exact(length) if length else b""
                if payload is None:
                    break
                if not self.kinds_in or self.kinds_in[-1] != kind or kind not in RATES:
                    self.kinds_in.append(kind)
                if kind in RATES:
                    self.frames_in += 1
                    if RATES[kind] == self.rate:  # kept at one rate, to be a WAV
                        self.received += payload
                elif kind == DTMF:
                    self.digits.append(payload.decode(errors="replace"))
                elif kind == ERROR:
                    self.errors.append(payload)
                elif kind == HANGUP:
                    self.hangup_received = True
        except OSError:
            pass
        self.closed.set()

    def received_seconds(self):
        return len(self.received) / 2 / self.rate

    def received_wav(self, path):
        n = len(self.received) // 2
        return write_wav(path, list(struct.unpack(f"<{n}h", bytes(self.received[:n * 2]))),
                         self.rate)

    def wait_closed(self, timeout):
        return self.closed.wait(timeout)


class AudioSocketClient(_Peer):
    """Asterisk's side: connect(), then UUID, then real-time audio."""

    def __init__(self, host, port, call_uuid=None, rate=8000, kind=AUDIO, send_uuid=True,
                 rcvbuf=None):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.connect((host, port))
        super().__init__(sock, rate, kind)
        self.uuid = call_uuid or str(uuidlib.uuid4())
        if send_uuid:
            sock.sendall(frame(UUID, uuidlib.UUID(self.uuid).bytes))


class AudioSocketServer:
    """A listener for atende's client role: accept() returns the peer once atende's UUID
    has arrived (the UUID is in .uuid)."""

    def __init__(self, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]

    def accept(self, timeout=30.0, mic_wav=None):
        self.sock.settimeout(timeout)
        conn, _ = self.sock.accept()
        conn.settimeout(None)
        head = conn.recv(3, socket.MSG_WAITALL)
        kind, length = struct.unpack("!BH", head)
        assert kind == UUID and length == 16, (kind, length)
        peer = _Peer(conn)
        peer.uuid = str(uuidlib.UUID(bytes=conn.recv(16, socket.MSG_WAITALL)))
        if mic_wav:
            peer.play_wav(mic_wav)
        return peer.start()

    def close(self):
        self.sock.close()
