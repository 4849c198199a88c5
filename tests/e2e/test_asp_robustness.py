"""ASP (docs/asp.md) under hostile or broken clients: each case gets the protocol's error and
close code, a session that was up is ended and recorded with its end_reason, and another
session on the same server keeps echoing throughout (every other call unaffected)."""
import json
import struct
import threading
import time

import pytest

from harness import http_api
from harness.asp_client import OP_BINARY, OP_TEXT, AspClient
from harness.asp_server import TOKEN, start_asp_server
from harness.audio import has_tone, make_tone_wav
from harness.audiosocket_server import ended_record, labelled_metric, wait_until

pytestmark = pytest.mark.atende_only


class Healthy:
    """An echo session that streams a tone in real time while the hostile cases run."""

    def __init__(self, srv, workdir):
        self.c = AspClient("127.0.0.1", srv.http_port, token=TOKEN, to="echo").connect()
        self.c.open_session()
        self.tone = make_tone_wav(workdir / "healthy_tone.wav", 700, 1.0)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.workdir = workdir
        # The echo flow's prompt (about 4 s) first; echoing starts after it.
        assert wait_until(lambda: self.c.audio_seconds() > 5.0, 30), self.c.messages

    def _run(self):
        while not self.stop.is_set():
            if not self.c.play_wav(self.tone):
                return

    def finish(self, srv):
        self.stop.set()
        self.thread.join(10)
        assert not self.c.closed.is_set(), "the healthy session was cut"
        ended = self.c.end_session()
        self.c.close()
        assert ended and ended["reason"] == "hangup", self.c.messages
        heard = self.c.received_wav(self.workdir / "healthy_heard.wav")
        assert has_tone(heard, 700, min_seconds=0.8), "the healthy session stopped echoing"
        rec = ended_record(srv, self.c.session_id)
        assert rec["end_reason"] == "hangup", rec


def started(srv, to="echo", **kw):
    c = AspClient("127.0.0.1", srv.http_port, token=TOKEN, to=to, **kw).connect()
    c.open_session()
    return c


def connected(srv):
    c = AspClient("127.0.0.1", srv.http_port, token=TOKEN, to="echo").connect()
    assert c.wait_type("protocol.capabilities")
    return c


def expect_error(c, code, close_code):
    err = c.wait_type("error", 10)
    assert err and err["code"] == code and err["close_code"] == close_code, c.messages
    assert c.wait_closed(10), "not closed after the error"
    assert c.close_code == close_code, (c.close_code, c.close_reason)


def test_errors_before_the_session(server_factory, workdir):
    srv = start_asp_server(server_factory, workdir)
    healthy = Healthy(srv, workdir)
    # Out of order: anything but session.start first.
    c = connected(srv)
    c.send_json({"type": "audio.end"})
    expect_error(c, "unexpected_message", 4402)
    # Audio before the session.
    c = connected(srv)
    c.send_audio(b"\0\0" * 160)
    expect_error(c, "unexpected_message", 4402)
    # Not JSON; an unknown type; a truncated JSON message.
    c = connected(srv)
    c.send_frame(OP_TEXT, b"not json")
    expect_error(c, "invalid_message", 4400)
    c = connected(srv)
    c.send_frame(OP_TEXT, b"\xff\xfe not UTF-8")  # a WebSocket violation: close 1007
    assert c.wait_closed(10) and c.close_code == 1007, c.close_code
    c = connected(srv)
    c.send_json({"type": "session.teleport"})
    expect_error(c, "unknown_message", 4401)
    c = connected(srv)
    c.send_frame(OP_TEXT, b'{"type": "session.start", "session_id": "0f8f')
    expect_error(c, "invalid_message", 4400)
    # Another major version; an unsupported rate; a session id that is not a UUID.
    c = connected(srv)
    c.start_session(version="2.0.0")
    expect_error(c, "unsupported", 4406)
    c = connected(srv)
    c.start_session(rate=44100)
    expect_error(c, "unsupported", 4406)
    c = connected(srv)
    c.start_session(session_id="not-a-uuid")
    expect_error(c, "invalid_message", 4400)
    # No session.start at all.
    c = connected(srv)
    expect_error(c, "timeout", 4408)
    # A text message over 4096 bytes (under the WebSocket limit).
    c = connected(srv)
    c.send_json({"type": "session.start", "pad": "x" * 5000})
    expect_error(c, "invalid_message", 4400)
    healthy.finish(srv)
    metrics = http_api.get_text(srv.http_base + "/metrics")
    assert labelled_metric(metrics, "atende_asp_errors_total", 'reason="protocol"') >= 6


@pytest.mark.parametrize("case", ["truncated_header", "oversized", "unknown_opcode",
                                  "second_start", "disconnect", "too_fast", "peer_error"])
def test_a_live_session_cut(server_factory, workdir, case):
    srv = start_asp_server(server_factory, workdir)
    healthy = Healthy(srv, workdir)
    c = started(srv)
    c.play_silence(0.5)
    if case == "truncated_header":
        # The first byte of a frame header, then the connection closes.
        c.send_raw(bytes([0x82]))
        c.sock.shutdown(1)
        want = "disconnected"
    elif case == "oversized":
        c.send_frame(OP_BINARY, b"\0" * 10000)
        want = "protocol_error: message_too_big"
    elif case == "unknown_opcode":
        c.send_frame(0x3, b"??")
        want = "protocol_error: websocket"
    elif case == "second_start":
        c.start_session(session_id=c.session_id)
        expect_error(c, "unexpected_message", 4402)
        want = "protocol_error: unexpected_message"
    elif case == "disconnect":
        c.close()
        want = "disconnected"
    elif case == "too_fast":
        c.play_silence(5.0, realtime=False)
        expect_error(c, "too_fast", 4429)
        want = "too_fast"
    elif case == "peer_error":
        c.send_json({"type": "error", "code": "internal_error", "message": "media server fault"})
        want = "peer_error"
    if case in ("oversized", "unknown_opcode"):
        assert c.wait_closed(10)
        assert c.close_code in (1009 if case == "oversized" else 1002, None), c.close_code
    rec = ended_record(srv, c.session_id, timeout=30)
    assert rec["end_reason"] == want, rec
    c.close()
    healthy.finish(srv)


def test_a_client_that_stops_reading_is_disconnected(server_factory, workdir):
    srv = start_asp_server(server_factory, workdir)
    healthy = Healthy(srv, workdir)
    c = started(srv, rcvbuf=4096)
    c.pause_reading()
    # Real-time audio that the echo sends back, unread: our queues fill, then the cut.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not c.play_silence(1.0):
            break
        rec = None
        try:
            rec = http_api.get_json(f"{srv.http_base}/api/calls/{c.session_id}")
        except AssertionError:
            pass
        if rec and rec.get("ended_at"):
            break
    rec = ended_record(srv, c.session_id, timeout=10)
    assert rec["end_reason"] == "peer_not_reading", rec
    c.close()
    healthy.finish(srv)
    metrics = http_api.get_text(srv.http_base + "/metrics")
    assert labelled_metric(metrics, "atende_asp_errors_total", 'reason="not_reading"') == 1


def test_a_session_id_in_use_is_refused(server_factory, workdir):
    srv = start_asp_server(server_factory, workdir)
    first = started(srv)
    second = connected(srv)
    second.start_session(session_id=first.session_id)
    expect_error(second, "session_in_use", 4409)
    # The first is undisturbed: it still echoes, and ends normally.
    tone = make_tone_wav(workdir / "tone.wav", 900, 1.0)
    first.play_silence(4.0)
    first.play_wav(tone)
    first.play_silence(0.5)
    ended = first.end_session()
    first.close()
    assert ended and ended["reason"] == "hangup", first.messages
    assert has_tone(first.received_wav(workdir / "first.wav"), 900, min_seconds=0.6)
    rec = ended_record(srv, first.session_id)
    assert rec["end_reason"] == "hangup", rec
    calls = http_api.wait_calls(
        srv.http_base, lambda cs: any(x.get("to") == "asp:" + first.session_id for x in cs), 10)
    refused = [x for x in calls if x.get("to") == "asp:" + first.session_id]
    assert refused and refused[0]["id"] != first.session_id, calls
    assert refused[0]["end_reason"].startswith("rejected"), refused
