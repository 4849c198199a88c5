"""The command line as a user meets it: bad configuration exits 2 naming the key, JSON logs
are one object per line with the call id, SIGTERM drains (new calls 503, /readyz 503, open
calls ended with BYE) and exits 0, and `atende calls` prints the record."""
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from harness.server import Server
from harness.sip_raw import RawCall, SipSocket, cseq_method, simple_sdp, status_of

pytestmark = pytest.mark.atende_only

BIN = os.environ.get("ATENDE_BIN")


def _run(*args, timeout=20):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)


def test_bad_flag_and_bad_config_exit_2_with_the_key_named(tmp_path):
    r = _run("serve", "--rtp-ports", "9000-100")
    assert r.returncode == 2 and "--rtp-ports" in r.stderr, r.stderr
    cfg = tmp_path / "atende.yaml"
    cfg.write_text("sip_listen: 127.0.0.1:5060\nmax_calls: lots\n")
    r = _run("serve", "--config", str(cfg))
    assert r.returncode == 2 and "max_calls" in r.stderr and "line 2" in r.stderr, r.stderr
    cfg.write_text("sip_lisen: 127.0.0.1:5060\n")
    r = _run("serve", "--config", str(cfg))
    assert r.returncode == 2 and "sip_lisen" in r.stderr and "unknown key" in r.stderr, r.stderr
    r = _run("serve", "--config", str(tmp_path / "missing.yaml"))
    assert r.returncode == 2 and "missing.yaml" in r.stderr, r.stderr


def test_help_lists_every_serve_flag():
    r = _run("serve", "--help")
    assert r.returncode == 0
    for flag in ("--config", "--sip-listen", "--http-listen", "--rtp-ports", "--data-dir",
                 "--log-format", "--max-calls"):
        assert flag in r.stdout, flag


def _http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


def test_sigterm_drains_then_hangs_up_and_exits_0(tmp_path):
    # Not the server fixture: this test stops the server itself and checks how it went.
    srv = Server("atende", BIN, tmp_path / "server",
                 extra_args=["--drain-seconds", "2", "--log-format", "json"]).start()
    with SipSocket(srv.sip_port) as sock:
        call = RawCall(sock, "echo", sdp=simple_sdp(sock.port + 2))
        assert call.invite() == 200
        call.ack()
        assert _http_status(srv.http_base + "/readyz") == 200
        srv.proc.send_signal(signal.SIGTERM)
        # Draining: not ready, and a new call is refused with 503. Polled, not slept: the
        # signal is handled when the main thread gets to it, however loaded the machine.
        deadline = time.monotonic() + 10
        while _http_status(srv.http_base + "/readyz") != 503 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _http_status(srv.http_base + "/readyz") == 503
        with SipSocket(srv.sip_port) as sock2:
            late = RawCall(sock2, "ivr", sdp=simple_sdp(sock2.port + 2))
            assert late.invite() == 503
            late.ack()
        # After the drain time the open call is ended by a BYE from the server.
        msgs = call.collect(6.0, until=lambda ms: any(m.startswith(b"BYE ") for m in ms))
        byes = [m.decode("utf-8", "replace") for m in msgs if m.startswith(b"BYE ")]
        assert byes, f"no BYE after drain: {msgs}"
        ok = (f"SIP/2.0 200 OK\r\n" + "\r\n".join(
            line for line in byes[0].split("\r\n")
            if line.split(":")[0] in ("Via", "From", "To", "Call-ID", "CSeq")) +
            "\r\nContent-Length: 0\r\n\r\n")
        sock.send(ok.encode())
    srv.proc.wait(timeout=15)
    assert srv.proc.returncode == 0, srv.log_tail()
    assert not srv.crash_report(), srv.crash_report()

    # JSON logs: every line is an object; the call's lines carry its id.
    lines = srv.stderr_path.read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert records and len(records) == len([l for l in lines if l.strip()]), lines[:5]
    assert any("call=" in r["msg"] and "event=answered" in r["msg"] for r in records)
    assert any("stopped cleanly" in r["msg"] for r in records)

    # The record survives the shutdown and `atende calls` shows it.
    out = _run("calls", "--data-dir", str(srv.data_dir))
    assert out.returncode == 0, out.stderr
    assert "sip:echo@" in out.stdout and "shutdown" in out.stdout, out.stdout
