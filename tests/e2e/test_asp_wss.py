"""wss:// in atende's ASP client role (docs/asp.md): a media server (harness/asp_client.py)
calls atende, whose flow bridges it (`type: asp`) to an agent at wss://127.0.0.1:PORT: a
TLS terminator (harness/tls_proxy.py, Python's ssl module) in front of atende's own plain
/asp, where the echo flow answers. Certificates are made at test time with the openssl CLI.
With the test CA as asp_client_ca_file the call bridges and a tone comes back through TLS
both ways; a certificate that CA did not sign, or an agent that never answers the TLS
handshake, fails the leg with the reason in the log, while another call goes on."""
import pathlib
import shutil
import socket

import pytest

from harness import http_api
from harness.asp_client import AspClient
from harness.asp_server import TOKEN, asp_flow, start_asp_server
from harness.audio import has_tone, make_tone_wav
from harness.audiosocket_server import ended_record, wait_until
from harness.tls import ca_signed, self_signed
from harness.tls_proxy import TlsProxy

pytestmark = pytest.mark.atende_only

ECHO_FLOW = pathlib.Path(__file__).resolve().parents[2] / "flows" / "echo.yaml"


def flows(workdir, agent_port, silent_port):
    """echo (what the agent side answers) and the callers' flows: wss_agent, and wss_silent
    (an agent that takes the connection and never answers the TLS handshake)."""
    d = workdir / "flows"
    d.mkdir()
    shutil.copy(ECHO_FLOW, d / "echo.yaml")
    agent = f"wss://127.0.0.1:{agent_port}/asp?to=echo"
    silent = f"wss://127.0.0.1:{silent_port}/asp?to=echo"
    (d / "wss_agent.yaml").write_text(asp_flow("wss_agent", agent))
    (d / "wss_silent.yaml").write_text(asp_flow("wss_silent", silent, "ring_timeout: 2s"))
    return d


def start(server_factory, workdir, proxy, ca, silent_port=9):
    srv = start_asp_server(server_factory, workdir,
                           extra_args=["--flows-dir",
                                       str(flows(workdir, proxy.port, silent_port))],
                           asp_client_token=TOKEN, asp_client_ca_file=str(ca))
    proxy.backend_port = srv.http_port
    return srv


def outbound_asp(srv):
    return [c for c in http_api.get_json(srv.http_base + "/api/calls")
            if c["leg_kind"] == "asp" and c["direction"] == "outbound"]


def test_wss_agent_trusted_by_the_ca_file_bridges_audio_both_ways(server_factory, workdir):
    ca, cert, key = ca_signed(workdir / "tls")
    proxy = TlsProxy(cert, key)
    srv = start(server_factory, workdir, proxy, ca)
    c = AspClient("127.0.0.1", srv.http_port, token=TOKEN, to="wss_agent").connect()
    try:
        c.open_session(rate=8000)
        # The echo's prompt plays meanwhile, from the agent through TLS to us.
        c.play_silence(4.5)
        c.play_wav(make_tone_wav(workdir / "tone.wav", 1000, 1.5))
        c.play_silence(1.5)
        ended = c.end_session()
    finally:
        c.close()
    assert ended, c.types()
    assert proxy.handshakes_ok == 1 and proxy.handshakes_failed == 0
    assert has_tone(c.received_wav(workdir / "heard.wav"), 1000, min_seconds=0.8), \
        "the tone did not come back through the wss:// agent"
    out = outbound_asp(srv)
    assert len(out) == 1, out
    rec = ended_record(srv, out[0]["id"], 20)
    assert rec["answered_at"] and rec["to"].startswith("wss://127.0.0.1:"), rec
    # The agent side: atende's own /asp behind the proxy, answered by the echo flow.
    inbound = [c for c in http_api.get_json(srv.http_base + "/api/calls")
               if c["leg_kind"] == "asp" and c["direction"] == "inbound" and c["flow"] == "echo"]
    assert len(inbound) == 1, inbound
    proxy.close()


def test_untrusted_or_silent_agent_fails_the_leg_and_not_the_other_calls(server_factory,
                                                                         workdir):
    ca, _, _ = ca_signed(workdir / "tls")
    cert, key, _ = self_signed(workdir / "rogue")  # names 127.0.0.1, but not signed by ca
    proxy = TlsProxy(cert, key)
    silent = socket.create_server(("127.0.0.1", 0))  # the kernel accepts; nobody speaks
    srv = start(server_factory, workdir, proxy, ca, silent.getsockname()[1])
    other = AspClient("127.0.0.1", srv.http_port, token=TOKEN, to="echo").connect()
    try:
        other.open_session(rate=8000)
        other.play_silence(1.0)
        c = AspClient("127.0.0.1", srv.http_port, token=TOKEN, to="wss_agent").connect()
        try:
            c.open_session(rate=8000)
            c.play_silence(1.0)
            # The dial failed: "not available", then the flow hangs up.
            assert c.wait_type("session.ended", 20), c.types()
        finally:
            c.close()
        # A handshake that never completes ends with the dial's ring timeout (2 s).
        c = AspClient("127.0.0.1", srv.http_port, token=TOKEN, to="wss_silent").connect()
        try:
            c.open_session(rate=8000)
            assert c.wait_type("session.ended", 20), c.types()
        finally:
            c.close()
        # The other call still echoes.
        other.play_silence(3.0)
        other.play_wav(make_tone_wav(workdir / "tone.wav", 1000, 1.5))
        other.play_silence(1.5)
        ended = other.end_session()
    finally:
        other.close()
    assert ended and ended["reason"] == "hangup", ended  # our session.end
    assert has_tone(other.received_wav(workdir / "heard.wav"), 1000, min_seconds=0.8)
    assert proxy.handshakes_ok == 0 and proxy.handshakes_failed == 1
    out = outbound_asp(srv)
    assert len(out) == 2, out
    for leg in out:
        rec = ended_record(srv, leg["id"], 20)
        assert rec["end_reason"] == "failed" and not rec["answered_at"], rec
    assert "tls handshake with 127.0.0.1: timeout" in srv.stderr_text(), srv.log_tail()
    assert wait_until(lambda: "certificate rejected" in srv.stderr_text(), 5), srv.log_tail()
    line = next(l for l in srv.stderr_text().splitlines() if "certificate rejected" in l)
    assert "event=dial_failed" in line and "wss://127.0.0.1:" in line, line
    assert "self-signed" in line or "self signed" in line, line
    srv.assert_healthy()
    proxy.close()
    silent.close()
