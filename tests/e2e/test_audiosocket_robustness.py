"""AudioSocket peers that misbehave (docs/audiosocket.md "Errors and limits"), each against
one server while an ordinary AudioSocket call (the bystander, on the echo flow) stays up the
whole time and must still echo at the end: a truncated header, an oversized frame, an
unknown type, audio faster than real time, a peer that stops reading, a disconnect
mid-call, a second connection with a UUID in use, and no UUID first. Each misbehaving
session is ended and recorded with its end_reason; the server stays healthy."""
import time

import pytest

from harness import http_api
from harness.audio import has_tone, make_tone_wav
from harness.audiosocket import AUDIO, ERROR, UUID, AudioSocketClient, frame
from harness.audiosocket_server import (ended_record, labelled_metric, start_with_listeners,
                                       wait_until)

pytestmark = pytest.mark.atende_only


@pytest.fixture
def setup(server_factory, workdir):
    srv, (port,) = start_with_listeners(server_factory, workdir, ["echo"])
    bystander = AudioSocketClient("127.0.0.1", port).start()
    assert wait_until(lambda: bystander.received_seconds() > 5.0, 20)  # past its prompt
    yield srv, port, bystander
    bystander.close()


def connect(port, **kwargs):
    peer = AudioSocketClient("127.0.0.1", port, **kwargs)
    time.sleep(0.3)  # a few real frames first, as a call would have
    return peer


def error_code(peer):
    assert peer.errors, f"no 0xff error message; got {peer.kinds_in}"
    return peer.errors[0][0]


def bystander_still_echoes(workdir, bystander, srv):
    assert not bystander.closed.is_set(), bystander.kinds_in
    start = len(bystander.received)
    bystander.play_wav(make_tone_wav(workdir / "tone.wav", 1000, 1.5))
    assert wait_until(lambda: len(bystander.received) - start > 2 * 8000 * 3, 20)
    heard = bystander.received[start:]
    bystander.received = heard
    assert has_tone(bystander.received_wav(workdir / "bystander.wav"), 1000, min_seconds=0.8)
    bystander.hangup()
    assert bystander.wait_closed(10)
    assert ended_record(srv, bystander.uuid)["end_reason"] == "hangup"


def test_protocol_errors_end_only_their_own_session(setup, workdir):
    srv, port, bystander = setup
    cases = {
        "truncated": (b"\x10\x01", False, "protocol_error: truncated_frame"),
        "oversized": (b"\x10\xff\xff", True, "protocol_error: frame_too_long"),
        "unknown": (b"\x42\x00\x01x", True, "protocol_error: unknown_frame_type"),
        "odd_audio": (b"\x10\x00\x03abc", True, "protocol_error: bad_frame_length"),
    }
    peers = {}
    for name, (data, _, _) in cases.items():
        peer = connect(port)
        peer.start()
        time.sleep(0.5)
        peer.stop_sending.set()  # the sender thread stops; then the bad bytes go alone
        time.sleep(0.1)
        peer.send_raw(data)
        if name == "truncated":
            peer.sock.shutdown(1)  # EOF in the middle of a header
        peers[name] = peer
    for name, (data, expect_error, reason) in cases.items():
        peer = peers[name]
        assert peer.wait_closed(15), f"{name}: the server did not close"
        if expect_error:
            assert error_code(peer) == 0x10, (name, peer.errors)
        rec = ended_record(srv, peer.uuid)
        assert rec["end_reason"] == reason, (name, rec)
        assert rec["leg_kind"] == "audiosocket", rec
        peer.close()
    metrics = http_api.get_text(srv.http_base + "/metrics")
    assert labelled_metric(metrics, "atende_audiosocket_errors_total", 'reason="protocol"') >= 4
    bystander_still_echoes(workdir, bystander, srv)


def test_too_fast_and_not_reading_and_disconnect(setup, workdir):
    srv, port, bystander = setup
    # Three seconds of audio at once: more than the 1 s the server queues.
    fast = connect(port)
    fast.send_raw(frame(AUDIO, b"\x00\x01" * 160) * 150)
    fast.start()
    # Reads nothing at all, with a small receive buffer, while still sending in real time.
    deaf = connect(port, rcvbuf=4096)
    deaf.paused_reading.set()
    deaf.start()
    # Goes away mid-call without a hang-up message.
    gone = connect(port).start()
    assert wait_until(lambda: gone.received_seconds() > 1.0, 20)
    gone.sock.close()
    gone.stop_sending.set()

    assert fast.wait_closed(15), "faster than real time was not cut off"
    assert error_code(fast) == 0x13, fast.errors
    assert ended_record(srv, fast.uuid)["end_reason"] == "too_fast"
    assert ended_record(srv, gone.uuid)["end_reason"] == "disconnected"
    # The deaf peer: our queue (32 KiB) and the kernel buffers fill in a few seconds.
    rec = ended_record(srv, deaf.uuid, timeout=60)
    assert rec["end_reason"] == "peer_not_reading", rec
    deaf.paused_reading.clear()
    for p in (fast, deaf, gone):
        p.close()
    metrics = http_api.get_text(srv.http_base + "/metrics")
    assert labelled_metric(metrics, "atende_audiosocket_errors_total", 'reason="too_fast"') == 1
    assert labelled_metric(metrics, "atende_audiosocket_errors_total",
                           'reason="not_reading"') == 1
    bystander_still_echoes(workdir, bystander, srv)


def test_uuid_in_use_and_no_uuid_first_are_refused(setup, workdir):
    srv, port, bystander = setup
    dup = AudioSocketClient("127.0.0.1", port, call_uuid=bystander.uuid).start()
    assert dup.wait_closed(15), "a second connection with a live UUID was not closed"
    assert error_code(dup) == 0x11, dup.errors
    dup.close()
    # Audio before any UUID: refused with a protocol error, nothing recorded (no call id).
    rude = AudioSocketClient("127.0.0.1", port, send_uuid=False)
    rude.send_raw(frame(AUDIO, b"\x00\x00" * 160))
    rude.start()
    assert rude.wait_closed(15)
    assert error_code(rude) == 0x10, rude.errors
    rude.close()
    # The refusal of the duplicate is recorded under its own id, naming the UUID it asked for.
    calls = http_api.get_json(srv.http_base + "/api/calls")
    refused = [c for c in calls if c["to"] == f"audiosocket:{bystander.uuid}"]
    assert refused and refused[0]["end_reason"] == "rejected: UUID in use", calls
    assert refused[0]["sip_status"] == 409, refused
    bystander_still_echoes(workdir, bystander, srv)
