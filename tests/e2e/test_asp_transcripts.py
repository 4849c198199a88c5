"""The browser's way into ASP (docs/asp.md "Connecting": the token as a WebSocket
subprotocol) and the "transcripts" feature (docs/asp.md "transcript"), against the real
server with the independent client (harness/asp_client.py)."""
import urllib.error
import urllib.request

import pytest

from harness import audio
from harness.asp_client import AspClient, HandshakeRefused, browser_subprotocols
from harness.asp_server import TOKEN, start_asp_server
from harness.audiosocket_server import ended_record

pytestmark = pytest.mark.atende_only


def test_token_as_a_subprotocol(server_factory, workdir):
    srv = start_asp_server(server_factory, workdir)
    # As a browser: no Authorization header, the token in the subprotocol list.
    c = AspClient("127.0.0.1", srv.http_port, subprotocols=browser_subprotocols(TOKEN)).connect()
    try:
        assert c.subprotocol == "atende-asp", c.subprotocol
        assert c.wait_type("protocol.capabilities")
        assert "transcripts" in c.find("protocol.capabilities")[0]["features"]
        c.start_session(rate=16000, to="echo")
        started = c.wait_type("session.started")
        assert started and started["status"] == "accepted", c.messages
        # Not asked for: no transcripts, and the feature is not negotiated.
        assert "transcripts" not in started["negotiated"]["features"], started
        assert c.wait_type("response.start", 10)
        c.play_silence(1.0)
        ended = c.end_session()
        assert ended and ended["reason"] == "hangup", c.messages
    finally:
        c.close()
    assert c.transcripts() == [], c.messages
    # A wrong token there is refused like a wrong header.
    with pytest.raises(HandshakeRefused) as refused:
        AspClient("127.0.0.1", srv.http_port,
                  subprotocols=browser_subprotocols("wrong-token-0123456789")).connect()
    assert refused.value.status == 401
    # Subprotocols without ours: the browser would fail the handshake, so we say why.
    with pytest.raises(HandshakeRefused) as refused:
        AspClient("127.0.0.1", srv.http_port, token=TOKEN, subprotocols=["chat"]).connect()
    assert refused.value.status == 400
    # The Authorization header keeps working, without any subprotocol in the reply.
    c = AspClient("127.0.0.1", srv.http_port, token=TOKEN, to="echo").connect()
    try:
        assert c.subprotocol is None
        assert c.wait_type("protocol.capabilities")
    finally:
        c.close()


def test_failed_tokens_on_asp_count_against_the_address(server_factory, workdir):
    """The API's per-address failed-authentication budget (20 a minute) covers /asp: after
    it, even the right token is refused with 429 from that address."""
    srv = start_asp_server(server_factory, workdir)
    statuses = []
    for _ in range(21):
        try:
            AspClient("127.0.0.1", srv.http_port,
                      subprotocols=browser_subprotocols("wrong-token-0123456789")).connect().close()
            statuses.append(101)
        except HandshakeRefused as e:
            statuses.append(e.status)
    assert statuses[:20] == [401] * 20 and statuses[20] == 429, statuses
    with pytest.raises(HandshakeRefused) as refused:
        AspClient("127.0.0.1", srv.http_port, token=TOKEN, to="echo").connect()
    assert refused.value.status == 429
    # The API shares that budget: a write with a wrong token from here is refused too.
    req = urllib.request.Request(srv.http_base + "/api/calls/x/hangup", data=b"{}",
                                 method="POST",
                                 headers={"Authorization": "Bearer wrong-token-0123456789",
                                          "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused_api:
        urllib.request.urlopen(req, timeout=5)
    assert refused_api.value.code == 429


def test_transcripts_of_the_speech_ivr_at_16k(server_factory, workdir):
    """A caller at 16 kHz says "sales" to the offline speech menu (flows/ivr.yaml): the
    client gets the menu's prompt as the agent's line, the recogniser's "sales" as the
    caller's, and the answer as the agent's next line, in that order."""
    srv = start_asp_server(server_factory, workdir)
    word = audio.make_speech_wav("sales", workdir / "sales16.wav", rate=16000)
    c = AspClient("127.0.0.1", srv.http_port, subprotocols=browser_subprotocols(TOKEN)).connect()
    try:
        assert c.wait_type("protocol.capabilities")
        c.start_session(rate=16000, to="ivr", features=["barge_in", "transcripts"])
        started = c.wait_type("session.started")
        assert started and "transcripts" in started["negotiated"]["features"], c.messages
        welcome = c.wait_transcript("agent", lambda t: t.startswith("Welcome to atende"))
        assert welcome and welcome["final"] is True, c.messages
        # Let the menu finish (a client streams silence in real time meanwhile), then speak.
        for _ in range(30):
            if c.find("response.end"):
                break
            c.play_silence(0.5)
        assert c.find("response.end"), c.types()
        c.play_wav(word)
        c.play_silence(2.0)
        caller = c.wait_transcript("caller", lambda t: "sales" in t, timeout=15)
        answer = c.wait_transcript("agent", lambda t: t.startswith("You chose sales"), timeout=15)
        c.play_silence(0.5)
    finally:
        c.close()
    assert caller, c.messages
    assert answer, c.messages
    lines = [(m["role"], m["text"]) for m in c.transcripts()]
    order = [lines.index(("agent", welcome["text"])), lines.index(("caller", caller["text"])),
             lines.index(("agent", answer["text"]))]
    assert order == sorted(order), lines
    rec = ended_record(srv, c.session_id)
    assert any(e["kind"] == "heard" and "sales" in e["detail"] for e in rec["events"]), rec
