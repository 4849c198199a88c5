"""Encrypted SIP and media (docs/security.md "TLS and SRTP") with real peers.

- baresip calls the echo flow over SIP/TLS with mandatory SRTP (RTP/SAVP, SDES keys in the
  TLS-protected SDP) and hears its own phrase back: keys, SRTP both ways and the echo work.
- SIPp's plain RTP offer to a listener whose policy is "required" gets 488; its RTP/SAVP
  offer to an "optional" listener is answered with RTP/SAVP and a key of our own.
- atende places a call through a `transport: tls`, `srtp: required` trunk to baresip
  (TLS listener, mandatory SRTP), checking its certificate: the callee hears the echo of
  its own phrase.
- A missing certificate stops the server at start-up with a message naming it.
"""
import subprocess
import time

import pytest

from harness import audio, http_api
from harness.api_client import post
from harness.baresip import Baresip
from harness.config import write_config
from harness.ports import LOOPBACK, free_port
from harness.sipp import run_sipp
from harness.tls import self_signed

pytestmark = pytest.mark.atende_only

PHRASE = "the quick brown fox jumps over the lazy dog"
SPEAK_AT_S = 7.0       # after the echo flow's own prompt (~4.5 s)
HANGUP_AT_S = 13.0
ECHO_MATCH_MIN = 0.8


def _tls_server(server_factory, workdir, *extra):
    cert, key, _ = self_signed(workdir / "tls", "atende")
    tls_port = free_port()
    srv = server_factory(extra_args=["--sip-tls-certificate", str(cert),
                                     "--sip-tls-key", str(key),
                                     "--sip-tls-listen", f"{LOOPBACK}:{tls_port}", *extra])
    return srv, tls_port, cert


def test_baresip_over_tls_with_srtp_hears_its_echo(server_factory, workdir, audiotool):
    srv, tls_port, cert = _tls_server(server_factory, workdir)
    # baresip's own TLS listener too: our in-dialog requests (BYE) go to its Contact.
    _, _, phone_pem = self_signed(workdir / "phone-tls", "phone", common_name="127.0.0.1")
    phrase = audio.make_speech_wav(PHRASE, workdir / "phrase.wav")
    mic = audio.make_speech_wav(PHRASE, workdir / "mic.wav", pad_before_s=SPEAK_AT_S,
                                pad_after_s=HANGUP_AT_S - SPEAK_AT_S + 10)
    phone = Baresip(workdir, mic, max_seconds=40, mediaenc="srtp-mand", cafile=cert,
                    certificate=phone_pem).start()
    try:
        assert phone.dial(f"sip:echo@{LOOPBACK}:{tls_port};transport=tls") is not None, \
            phone.log()
        assert phone.wait_log("Call established", 10), phone.log()
        time.sleep(HANGUP_AT_S)
        phone.hangup()
    finally:
        phone.stop()
    log = phone.full_log()
    assert "srtp" in log.lower(), log[-3000:]

    # The call went over TLS with SRTP, as the server recorded it.
    calls = http_api.wait_calls(srv.http_base, lambda c: c and c[0].get("ended_at"), 10)
    rec = http_api.get_json(f"{srv.http_base}/api/calls/{calls[0]['id']}")
    answered = [e["detail"] for e in rec["events"] if e["kind"] == "answered"]
    assert answered and "SRTP AES_CM_128_HMAC_SHA1_" in answered[0], rec["events"]
    assert rec["flow"] == "echo", rec

    # The echo: baresip decrypted our SRTP, and we decrypted its (or it would be silence).
    _hears_its_phrase(phone, phrase, audiotool, SPEAK_AT_S)

    # No SRTP packet was refused on either side of a clean call.
    metrics = http_api.get_text(srv.http_base + "/metrics")
    assert 'atende_srtp_dropped_total{reason="auth"} 0' in metrics, metrics
    assert 'atende_srtp_dropped_total{reason="replay"} 0' in metrics, metrics


def _hears_its_phrase(phone, phrase, audiotool, speak_at_s):
    heard = phone.received_wav()
    assert heard is not None, f"baresip recorded nothing\n{phone.log()}"
    found = audio.find_phrase(phrase, heard, audiotool)
    assert found["score"] >= (0.5 if found["method"] == "audiotool" else ECHO_MATCH_MIN), found
    assert speak_at_s - 0.5 <= found["offset_s"] <= speak_at_s + 3.0, found


def test_outbound_call_over_a_tls_trunk_with_srtp(server_factory, workdir, audiotool):
    token = "tls-test-token-0123456789abcdef"
    callee_cert, _, callee_pem = self_signed(workdir / "callee-tls", "callee",
                                             common_name="127.0.0.1",
                                             alt_names="DNS:127.0.0.1,IP:127.0.0.1")
    phrase = audio.make_speech_wav(PHRASE, workdir / "phrase.wav")
    mic = audio.make_speech_wav(PHRASE, workdir / "mic.wav", pad_before_s=SPEAK_AT_S,
                                pad_after_s=HANGUP_AT_S - SPEAK_AT_S + 10)
    callee = Baresip(workdir, mic, max_seconds=40, user="1001", answermode="auto",
                     mediaenc="srtp-mand", certificate=callee_pem, name="callee").start()
    try:
        cfg = write_config(
            workdir, api_tokens=[{"name": "t", "token": token, "allow": ["1xxx"]}],
            trunks=[{"name": "tlspeer", "host": LOOPBACK, "port": callee.sip_port + 1,
                     "transport": "tls", "srtp": "required", "default": True}],
            sip_tls_ca=str(callee_cert))
        srv, _, _ = _tls_server(server_factory, workdir, "--config", str(cfg))
        status, reply, _ = post(srv.http_base, "/api/calls", {"to": "1001", "flow": "echo"},
                                token)
        assert status == 202, (status, reply)
        assert callee.wait_log("Call established", 15), callee.log()
        time.sleep(HANGUP_AT_S)
        callee.hangup()
        rec = http_api.wait_call_ended(srv.http_base, reply["id"], 15)
    finally:
        callee.stop()
    answered = [e["detail"] for e in rec["events"] if e["kind"] == "answered"]
    assert answered and "SRTP AES_CM_128_HMAC_SHA1_80" in answered[0], rec["events"]
    dial = [e["detail"] for e in rec["events"] if e["kind"] == "dial"]
    assert dial and ";transport=tls" in dial[0], rec["events"]
    _hears_its_phrase(callee, phrase, audiotool, SPEAK_AT_S)


def test_plain_rtp_offer_to_srtp_required_listener_gets_488(server_factory, workdir):
    srv = server_factory(extra_args=["--srtp", "required"])
    result = run_sipp("uac_plain_to_srtp", srv.sip_target, workdir)
    assert result.returncode == 0 and result.successful == 1, result.explain()
    assert "488" in result.messages, result.explain()
    calls = http_api.wait_calls(srv.http_base, lambda c: c and c[0].get("ended_at"), 10)
    assert calls and calls[0].get("answered_at") is None, calls


def test_savp_offer_is_answered_with_srtp_on_an_optional_listener(server, workdir):
    result = run_sipp("uac_savp_call", server.sip_target, workdir, duration_ms=500)
    assert result.returncode == 0 and result.successful == 1, result.explain()


def test_savp_offer_to_srtp_off_listener_gets_488(server_factory, workdir):
    srv = server_factory(extra_args=["--srtp", "off"])
    result = run_sipp("uac_savp_call", srv.sip_target, workdir, duration_ms=500)
    assert result.successful == 0, result.explain()
    assert "488" in result.messages, result.explain()


@pytest.mark.parametrize("what", ["missing", "not_pem", "wrong_key"])
def test_bad_certificate_stops_the_start_with_a_clear_error(tmp_path, what):
    import os
    binary = os.environ.get("ATENDE_BIN")
    if not binary:
        pytest.skip("ATENDE_BIN not set")
    cert, key, _ = self_signed(tmp_path / "a", "a")
    other_cert, other_key, _ = self_signed(tmp_path / "b", "b")
    if what == "missing":
        cert_arg, key_arg, expect = str(tmp_path / "nope.crt"), str(key), "sip_tls_certificate"
    elif what == "not_pem":
        junk = tmp_path / "junk.crt"
        junk.write_text("hello\n")
        cert_arg, key_arg, expect = str(junk), str(key), "no PEM certificate"
    else:
        cert_arg, key_arg, expect = str(cert), str(other_key), "is not the key of"
    out = subprocess.run(
        [binary, "serve", "--sip-listen", f"{LOOPBACK}:{free_port()}",
         "--http-listen", f"{LOOPBACK}:{free_port()}", "--data-dir", str(tmp_path / "data"),
         "--sip-tls-certificate", cert_arg, "--sip-tls-key", key_arg],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, (out.returncode, out.stderr[-2000:])
    assert expect in out.stderr, out.stderr[-2000:]
    # No key material in the message.
    assert "PRIVATE KEY" not in out.stderr
    for key_file in (key, other_key):
        assert key_file.read_text().splitlines()[1] not in out.stderr
