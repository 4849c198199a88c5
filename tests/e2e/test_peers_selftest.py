"""The test peers themselves, without atende: Kamailio (registrar with digest auth, proxy,
407 for accounts), the SIPp UAS scenarios behind it, and baresip as a registered callee
carrying tones both ways. If these fail, tests of outbound calls, registration, bridging
and transfer would fail for reasons that are not atende's."""
import concurrent.futures
import time

import pytest

from harness import audio
from harness import baresip as bs
from harness.kamailio import Kamailio
from harness.sip_raw import SipSocket, build_request, simple_sdp
from harness.sipp import SippUas, register, run_sipp


@pytest.fixture
def kams():
    started = []
    yield started
    for kam in started:
        kam.stop()


def _kam(kams, *args, **kwargs):
    kam = Kamailio(*args, **kwargs)
    kams.append(kam)
    return kam.start()


def _invite_status(kam, user, from_user="probe"):
    """Final status of an INVITE sent straight to Kamailio from a raw socket."""
    with SipSocket(kam.port) as sock:
        req = build_request("INVITE", kam.uri(user), local_port=sock.port, target=kam.target,
                            body=simple_sdp(40000))
        if from_user != "probe":
            req = req.replace(b"<sip:probe@", f"<sip:{from_user}@".encode())
        return sock.request(req, timeout=5)


def test_registrar_digest_auth_and_restart(workdir, kams):
    kam = _kam(kams, workdir, users={"atende": "secret", "bob": "pw-bob"})
    ok = register(kam.target, workdir, "atende", "secret", expect=200)
    assert ok.returncode == 0, ok.explain() + kam.log_tail()
    assert kam.wait_registered("atende", timeout=3), kam.log_tail()
    assert kam.contacts("atende")[0].startswith("sip:atende@127.0.0.1:")

    wrong = register(kam.target, workdir, "bob", "not-bob", expect=403)
    assert wrong.returncode == 0, wrong.explain() + kam.log_tail()
    unknown = register(kam.target, workdir, "mallory", "x", expect=403)
    assert unknown.returncode == 0, unknown.explain() + kam.log_tail()
    assert not kam.registered("bob") and not kam.registered("mallory")
    assert any("wrong password" in l for l in kam.script_log())

    port = kam.port
    kam.restart()
    assert kam.port == port and kam.alive()
    assert not kam.registered("atende"), "registrations are memory-only"
    again = register(kam.target, workdir, "atende", "secret", expect=200)
    assert again.returncode == 0, again.explain() + kam.log_tail()
    assert kam.wait_registered("atende", timeout=3)
    assert kam.unregister("atende") and not kam.registered("atende")


def test_bad_config_fails_fast_with_the_log(workdir):
    kam = Kamailio(workdir, users={"a": "b"})
    kam.command = lambda orig=kam.command: orig() + ["-A", "LISTEN_UDP=udp:not an address"]
    with pytest.raises(AssertionError, match="kamailio exited"):
        kam.start(timeout=10)
    kam.stop()


def test_proxy_routes_calls_to_each_sipp_uas(workdir, kams):
    scen = {"1001": ("uas_answer", {}, "uac_call", {"duration_ms": 300}),
            "1002": ("uas_busy", {}, "uac_busy", {}),
            "1003": ("uas_no_answer", {}, "uac_cancel", {}),
            "1004": ("uas_early_media", {"early_ms": 1000}, "uac_call", {"duration_ms": 300}),
            "1005": ("uas_accept_refer", {}, "uac_refer",
                     {"duration_ms": 300,
                      "substitutions": {"REFER_TO": "sip:2000@127.0.0.1:5060"}})}
    uases = {num: SippUas(name, workdir, timeout_s=20, **kw).start()
             for num, (name, kw, _, _) in scen.items()}
    downstream = SippUas("uas_answer", workdir, timeout_s=20).start()
    kam = _kam(kams, workdir, users={"atende": "secret"},
               downstream=("127.0.0.1", downstream.port),
               routes={num: ("127.0.0.1", u.port) for num, u in uases.items()})

    calls = {num: (uac, dict(kw, service=num, timeout_s=15, tag=f"uac-{num}"))
             for num, (_, _, uac, kw) in scen.items()}
    calls["5551234"] = ("uac_call", {"service": "5551234", "duration_ms": 300,
                                     "timeout_s": 15, "tag": "uac-downstream"})
    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        futures = {num: pool.submit(run_sipp, uac, kam.target, workdir, **kw)
                   for num, (uac, kw) in calls.items()}
        results = {num: f.result() for num, f in futures.items()}
    uas_results = {num: u.wait() for num, u in uases.items()}
    uas_results["5551234"] = downstream.wait()

    for num, result in results.items():
        assert result.returncode == 0 and result.successful == 1, \
            f"UAC to {num}: {result.explain()}\n{kam.log_tail()}"
        uas = uas_results[num]
        assert uas.returncode == 0 and uas.successful == 1, \
            f"UAS for {num}: {uas.explain()}\n{kam.log_tail()}"
    # the REFER went through the proxy and the UAS saw its Refer-To
    assert "Refer-To: <sip:2000@127.0.0.1:5060>" in uas_results["1005"].messages
    # unknown names are refused
    assert _invite_status(kam, "nobody") == 404


def test_invite_auth_for_accounts(workdir, kams):
    uas = SippUas("uas_answer", workdir, calls=2, timeout_s=20).start()
    kam = _kam(kams, workdir, users={"atende": "secret"}, invite_auth=True,
               routes={"1001": ("127.0.0.1", uas.port)})
    assert _invite_status(kam, "1001", from_user="atende") == 407
    authed = run_sipp("uac_call_auth", kam.target, workdir, service="1001", duration_ms=200,
                      substitutions={"FROM_USER": "atende"}, timeout_s=10,
                      extra_args=["-au", "atende", "-ap", "secret"], tag="uac-auth")
    assert authed.returncode == 0, authed.explain() + kam.log_tail()
    assert "Proxy-Authorization: Digest" in authed.messages
    # a caller that is not an account is not challenged
    plain = run_sipp("uac_call", kam.target, workdir, service="1001", duration_ms=200,
                     timeout_s=10, tag="uac-plain")
    assert plain.returncode == 0, plain.explain() + kam.log_tail()
    result = uas.wait()
    assert result.successful == 2, result.explain()


def test_baresip_callee_registers_answers_and_carries_tones(workdir, kams):
    kam = _kam(kams, workdir, users={"bob": "pw-bob"})
    a_wav = audio.make_tone_wav(workdir / "a.wav", 1000, 3, pad_after_s=10)
    b_wav = audio.make_tone_wav(workdir / "b.wav", 600, 3, pad_after_s=10)
    callee = bs.callee(workdir, b_wav, user="bob", registrar=kam, password="pw-bob", name="b")
    caller = bs.Baresip(workdir, a_wav, user="alice", name="a").start()
    try:
        assert kam.wait_registered("bob", timeout=10), callee.log() + kam.log_tail()
        caller.dial(kam.uri("bob"))
        assert caller.wait_log("Call established", 10), caller.log() + kam.log_tail()
        assert callee.wait_log("Call established", 5), callee.log()
        time.sleep(3.5)
        caller.hangup()
    finally:
        caller.stop()
        callee.stop()
    heard_by_b, heard_by_a = callee.received_wav(), caller.received_wav()
    assert heard_by_b and heard_by_a
    assert audio.has_tone(heard_by_b, 1000, min_seconds=2.0), audio.tone_seconds(heard_by_b, 1000)
    assert not audio.has_tone(heard_by_b, 600)
    assert audio.has_tone(heard_by_a, 600, min_seconds=2.0), audio.tone_seconds(heard_by_a, 600)
    assert not audio.has_tone(heard_by_a, 1000)


def test_baresip_busy_callee_refuses_with_486(workdir, kams):
    """Also: a route given as a URI replaces the R-URI (baresip 404s other users)."""
    wav = audio.make_silence_wav(workdir / "quiet.wav", 10)
    callee = bs.callee(workdir, wav, busy=True, name="busy")
    kam = _kam(kams, workdir, routes={"3000": callee.uri})
    try:
        result = run_sipp("uac_busy", kam.target, workdir, service="3000",
                          timeout_s=10, tag="uac-busy-baresip")
        assert result.returncode == 0, result.explain() + callee.log() + kam.log_tail()
        assert "SIP/2.0 486" in result.messages
    finally:
        callee.stop()


def test_baresip_manual_answer_rings_until_cancelled(workdir):
    wav = audio.make_silence_wav(workdir / "quiet.wav", 10)
    callee = bs.callee(workdir, wav, answermode="manual", name="ringing")
    try:
        result = run_sipp("uac_cancel", callee.target, workdir, service=callee.user,
                          timeout_s=10, tag="uac-cancel-baresip")
        assert result.returncode == 0, result.explain() + callee.log()
        assert "SIP/2.0 180" in result.messages and "SIP/2.0 487" in result.messages
    finally:
        callee.stop()


def test_sipp_uas_echoes_rtp_behind_the_proxy(workdir, kams):
    uas = SippUas("uas_answer", workdir, timeout_s=20, ring_ms=500).start()
    kam = _kam(kams, workdir, downstream=("127.0.0.1", uas.port))
    wav = audio.make_tone_wav(workdir / "tone.wav", 1000, 2, pad_after_s=10)
    caller = bs.Baresip(workdir, wav, name="echo-caller").start()
    try:
        caller.dial(kam.uri("5550100"))
        assert caller.wait_log("Call established", 10), caller.log() + kam.log_tail()
        time.sleep(2.5)
        caller.hangup()
    finally:
        caller.stop()
    result = uas.wait()
    assert result.returncode == 0 and result.successful == 1, result.explain()
    assert audio.has_tone(caller.received_wav(), 1000, min_seconds=1.5), \
        audio.tone_seconds(caller.received_wav(), 1000)


def test_server_answers_through_the_proxy(server, workdir, kams):
    """The server under test behind Kamailio: the INVITE is record-routed, ACK and BYE
    follow the Route set back through the proxy (routes match any R-URI user, not only
    numbers: sip:echo@proxy reaches the server's echo flow)."""
    kam = _kam(kams, workdir, routes={"echo": ("127.0.0.1", server.sip_port)})
    result = run_sipp("uac_call", kam.target, workdir, service="echo", duration_ms=500,
                      timeout_s=10, tag="uac-via-proxy")
    assert result.returncode == 0 and result.successful == 1, result.explain() + kam.log_tail()
    assert "Record-Route: <sip:127.0.0.1:%d;lr" % kam.port in result.messages
    assert any("BYE" in l and "e2e: BYE" in l for l in kam.script_log()), kam.script_log()
