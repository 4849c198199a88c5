"""Who may call (docs/security.md), against real peers: SIPVicious (svmap, svwar, svcrack)
as the scanner, SIPp as callers and as the flood. Everything runs on loopback: every
127.x.y.z address reaches lo on Linux, so the "stranger" binds 127.0.0.9 and the access
rules are written for that.

Each test starts atende with an `access:` section; the trusted caller is 127.0.0.1."""
import hashlib
import os
import pathlib
import re
import signal
import subprocess
import time

import pytest

from harness import http_api
from harness.config import write_config
from harness.sip_raw import RawCall, SipSocket, build_request, options_ping, simple_sdp
from harness.sipp import Sipp, run_sipp

STRANGER = "127.0.0.9"
FRIEND = "127.0.0.1"
PASSWORD = "Tr0ub4dor-and-3"

pytestmark = pytest.mark.atende_only


def _start(server_factory, workdir, **sections):
    cfg = write_config(workdir, name=f"atende-{len(os.listdir(workdir))}.yaml", **sections)
    return server_factory(extra_args=["--config", str(cfg)]), cfg


def _metrics(server):
    return http_api.get_text(server.http_base + "/metrics")


def _sample(text, name, **labels):
    """The value of one sample (labels exactly as given), 0 when absent."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    head = f"{name}{{{want}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(head + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _request(server, method, user, local_host, extra_headers=(), timeout=1.5):
    """Status of one request from local_host (None: nothing came back)."""
    with SipSocket(server.sip_port, local_host=local_host) as s:
        body = simple_sdp(s.port + 2, host=local_host) if method == "INVITE" else b""
        msg = build_request(method, f"sip:{user}@127.0.0.1:{server.sip_port}", local_port=s.port,
                            target=server.sip_port, via_host=local_host, body=body,
                            extra_headers=extra_headers)
        return s.request(msg, timeout)


def _digest_invite(server, local_host, user, password, timeout=1.5):
    """An INVITE, and when it is challenged, again with credentials (MD5, qop=auth): the
    final status of the second one (401 again for a wrong password, None for nothing)."""
    with SipSocket(server.sip_port, local_host=local_host) as s:
        ruri = f"sip:echo@127.0.0.1:{server.sip_port}"
        body = simple_sdp(s.port + 2, host=local_host)
        call_id = f"brute-{time.monotonic_ns()}@{local_host}"
        first = build_request("INVITE", ruri, local_port=s.port, target=server.sip_port,
                              via_host=local_host, body=body, call_id=call_id)
        s.send(first)
        challenge = next((m for m in s.receive(timeout, until=lambda ms: any(
            m.startswith(b"SIP/2.0 401") for m in ms)) if m.startswith(b"SIP/2.0 401")), None)
        if challenge is None:
            return None
        text = challenge.decode(errors="replace")
        md5 = [l for l in text.split("\r\n") if l.startswith("WWW-Authenticate:") and "MD5" in l]
        nonce = re.search(r'nonce="([^"]+)"', md5[0]).group(1)
        h = lambda x: hashlib.md5(x.encode()).hexdigest()
        ha1, ha2 = h(f"{user}:atende:{password}"), h(f"INVITE:{ruri}")
        response = h(f"{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}")
        auth = (f'Authorization: Digest username="{user}", realm="atende", nonce="{nonce}", '
                f'uri="{ruri}", response="{response}", algorithm=MD5, qop=auth, nc=00000001, '
                f'cnonce="c0ffee"')
        second = build_request("INVITE", ruri, local_port=s.port, target=server.sip_port,
                               via_host=local_host, body=body, call_id=call_id, cseq=2,
                               extra_headers=[auth])
        return s.request(second, timeout)


def _sv(tool, source, *args, timeout=60):
    """Runs a SIPVicious tool from `source` (-b binds it, -x puts it in the Via, so answers
    come back to it); returns its combined output."""
    try:
        proc = subprocess.run([tool, "-b", source, "-x", source, *args], capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as e:  # a blocked scanner may wait on: what it said
        text = lambda b: b.decode(errors="replace") if isinstance(b, bytes) else (b or "")
        return text(e.stdout) + text(e.stderr) + f"\n[{tool} still running after {timeout} s]"


# --- a stranger whose address is not allowed -----------------------------------------------

@pytest.mark.parametrize("kernel_filter", [True, False])
def test_denied_stranger_finds_nothing(server_factory, workdir, kernel_filter):
    server, _ = _start(server_factory, workdir,
                       access={"allow": ["127.0.0.1/32", "::1"], "kernel_filter": kernel_filter})
    # The scanner from an address that is not allowed: nothing at all comes back, for any
    # method (no 403, no 100 Trying, no 400 for junk).
    for method in ("OPTIONS", "REGISTER", "INVITE"):
        assert _request(server, method, "100", STRANGER) is None, method
    out = _sv("svmap", STRANGER, "-p", str(server.sip_port), "127.0.0.1")
    assert f"127.0.0.1:{server.sip_port}" not in out, out
    # The same scanner from an allowed address finds it: the test can see a SIP server.
    out_friend = _sv("svmap", FRIEND, "-p", str(server.sip_port), "127.0.0.1")
    assert f"127.0.0.1:{server.sip_port}" in out_friend, out_friend
    if not kernel_filter:
        # An INVITE held unanswered in the SIP thread, then cancelled: the hold lets go of
        # it once, not twice (a double destroy would crash or show in ASan).
        with SipSocket(server.sip_port, local_host=STRANGER) as sock:
            call = RawCall(sock, "echo")
            call.send_invite()
            time.sleep(0.3)
            call.send_cancel()
            call.collect(1.0)
    metrics = _metrics(server)
    if kernel_filter:
        # Refused in the kernel: sofia never saw them.
        assert _sample(metrics, "atende_sip_dropped_in_kernel_total") >= 3, metrics
    else:
        assert _sample(metrics, "atende_sip_refused_total", reason="denied") >= 3, metrics
    # One log line per source per minute, not one per packet.
    log = server.stderr_text()
    assert log.count(f"refusing {STRANGER}") <= 1, log
    assert "access: SIP accepted from 127.0.0.1/32, ::1/128" in log
    server.assert_healthy()


def test_default_rules_say_so_at_start(server):
    log = server.stderr_text()
    line = next((l for l in log.splitlines() if "access: SIP accepted from" in l), "")
    assert "127.0.0.0/8" in line and "192.168.0.0/16" in line and "fc00::/7" in line, log
    assert "the default" in line and "access.allow" in line, line


# --- a stranger that may reach us but is not trusted --------------------------------------

def _open_config():
    return {
        "allow": ["127.0.0.0/8"],
        "trusted": ["127.0.0.1/32"],
        "exempt": ["127.0.0.1/32"],
        "accounts": [{"user": "alice", "password": PASSWORD}],
        "limits": {"invite_per_second": 20, "invite_burst": 100, "register_per_second": 20,
                   "options_per_second": 20, "auth_failures_per_minute": 5,
                   "block_seconds": 60},
    }


def test_scanner_learns_no_extension_and_no_password(server_factory, workdir):
    server, _ = _start(server_factory, workdir, access=_open_config(),
                       dialplan=[{"match": "100", "flow": "echo"}])
    # Every extension, real (100) or not (999), gets the same answers from an untrusted
    # address: 401 to INVITE, 403 to REGISTER.
    assert _request(server, "INVITE", "100", STRANGER) == 401
    assert _request(server, "INVITE", "999", STRANGER) == 401
    assert _request(server, "REGISTER", "100", STRANGER) == 403
    assert _request(server, "REGISTER", "999", STRANGER) == 403

    # Calls from the trusted address go on while the scan runs.
    caller = Sipp("uac_call", server.sip_target, workdir, service="100", calls=10, rate=2,
                  duration_ms=300, timeout_s=60, tag="trusted-during-scan").start()
    extensions = "90-110"
    war_invite = _sv("svwar", STRANGER, "-m", "INVITE", "-e", extensions, "-p",
                     str(server.sip_port), "127.0.0.1")
    war_register = _sv("svwar", STRANGER, "-e", extensions, "-p", str(server.sip_port),
                       "127.0.0.1")
    for out in (war_invite, war_register):
        assert not re.search(r"\|\s*100\s*\|", out), out

    # svcrack against alice: a dictionary of wrong guesses with the right one far down. The
    # source is blocked after 5 wrong passwords, so it never gets that far.
    words = workdir / "dictionary.txt"
    words.write_text("\n".join([f"guess{i}" for i in range(40)] + [PASSWORD]) + "\n")
    crack_invite = _sv("svcrack", STRANGER, "-m", "INVITE", "-u", "alice", "-d",
                       str(words), "-p", str(server.sip_port), "127.0.0.1", timeout=120)
    crack_register = _sv("svcrack", STRANGER, "-u", "alice", "-d", str(words), "-p",
                         str(server.sip_port), "127.0.0.1", timeout=120)
    for out in (crack_invite, crack_register):
        assert PASSWORD not in out, out

    result = caller.wait()
    assert result.returncode == 0 and result.successful == 10, result.explain()

    # svcrack takes the 100 Trying (INVITE) or the 403 (REGISTER) for "no password needed"
    # and stops. A real brute force answers each challenge: after 5 wrong passwords the
    # source is blocked, and then even the right password gets nothing.
    # (The failures bucket refills at 5 a minute, so one more may pass if the attempts are
    # slow on a busy machine.)
    statuses = [_digest_invite(server, STRANGER, "alice", f"guess{i}") for i in range(9)]
    assert statuses[:5] == [401] * 5, statuses
    first_none = statuses.index(None) if None in statuses else len(statuses)
    assert first_none <= 7 and statuses[first_none:] == [None] * (9 - first_none), statuses
    assert _digest_invite(server, STRANGER, "alice", PASSWORD) is None
    metrics = _metrics(server)
    assert _sample(metrics, "atende_sip_refused_total", reason="auth") >= 6, metrics
    assert "too many wrong passwords" in server.stderr_text()
    # Blocked now, for everything: even OPTIONS gets nothing.
    assert options_ping(server.sip_port, local_host=STRANGER, timeout=1.0) is None
    server.assert_healthy()


# --- digest authentication from an untrusted address ---------------------------------------

@pytest.mark.parametrize("challenge", [401, 407])
def test_digest_right_password_calls_wrong_one_does_not(server_factory, workdir, challenge):
    config = _open_config()
    config["challenge"] = challenge
    server, _ = _start(server_factory, workdir, access=config)
    subs = {"FROM_USER": "alice"}
    scenario = (workdir / "uac_call_auth.src.xml")
    text = (pathlib_path("uac_call_auth")).read_text().replace('response="407"',
                                                               f'response="{challenge}"')
    scenario.write_text(text)
    ok = run_sipp(scenario, server.sip_target, workdir, service="echo", duration_ms=200,
                  substitutions=subs, local_ip=STRANGER, tag=f"right-{challenge}",
                  extra_args=["-au", "alice", "-ap", PASSWORD])
    assert ok.returncode == 0 and ok.successful == 1, ok.explain()
    bad = run_sipp(scenario, server.sip_target, workdir, service="echo", duration_ms=200,
                   substitutions=subs, local_ip=STRANGER, tag=f"wrong-{challenge}",
                   extra_args=["-au", "alice", "-ap", "not-the-password"], timeout_s=8)
    assert bad.successful == 0, bad.explain()
    assert f"SIP/2.0 {challenge}" in bad.messages
    assert "SIP/2.0 200" not in bad.messages.split("CSeq: 2 INVITE", 1)[-1]
    # An unknown user with a password gets exactly what alice with a wrong one got.
    nobody = run_sipp(scenario, server.sip_target, workdir, service="echo", duration_ms=200,
                      substitutions={"FROM_USER": "nobody"}, local_ip=STRANGER,
                      tag=f"nobody-{challenge}",
                      extra_args=["-au", "nobody", "-ap", "not-the-password"], timeout_s=8)
    assert nobody.successful == 0
    metrics = _metrics(server)
    assert _sample(metrics, "atende_sip_refused_total", reason="auth") >= 2, metrics
    records = http_api.get_json(server.http_base + "/api/calls")
    answered = [c for c in records if c.get("answered_at")]
    assert len(answered) == 1, records
    server.assert_healthy()


def pathlib_path(name):
    from harness.sipp import scenario_path
    return scenario_path(name)


# --- floods --------------------------------------------------------------------------------

def test_invite_flood_is_cut_off_and_callers_get_through(server_factory, workdir):
    config = _open_config()
    config["trusted"] = ["127.0.0.1/32", "127.0.0.2/32"]
    config["exempt"] = []
    config["limits"]["invite_per_second"] = 20
    server, _ = _start(server_factory, workdir, access=config)
    rss_before = _rss_kb(server.pid())
    # A legitimate caller from 127.0.0.2 at 10 calls/s (under its limit), while 127.0.0.9
    # (untrusted: its first INVITEs get 401, then it is blocked) sends 2,000 INVITEs/s
    # for 5 s.
    legit = Sipp("uac_call", server.sip_target, workdir, service="echo", calls=60, rate=10,
                 duration_ms=100, timeout_s=60, local_ip="127.0.0.2", tag="legit",
                 trace_messages=False).start()
    flood = Sipp("flood_invite", server.sip_target, workdir, service="echo", calls=10000,
                 rate=2000, timeout_s=30, local_ip=STRANGER, tag="flood",
                 trace_messages=False, extra_args=["-rate_increase", "0"]).start()
    flood_result = flood.wait()
    legit_result = legit.wait()
    assert legit_result.successful == 60 and legit_result.failed == 0, legit_result.explain()
    assert flood_result.created >= 5000, flood_result.explain()
    metrics = _metrics(server)
    refused = _sample(metrics, "atende_sip_refused_total", reason="rate")
    kernel = _sample(metrics, "atende_sip_dropped_in_kernel_total")
    assert refused >= 1, metrics
    # Almost all of the flood was dropped before sofia read it.
    assert kernel + refused >= flood_result.created * 0.9, (kernel, refused, flood_result.created)
    assert _sample(metrics, "atende_sip_blocked_sources") == 1, metrics
    rss_after = _rss_kb(server.pid())
    assert rss_after - rss_before < 30 * 1024, (rss_before, rss_after)
    log = server.stderr_text()
    assert log.count(f"blocking {STRANGER}") == 1, log
    assert log.count(f"refusing {STRANGER}") <= 2, log
    server.assert_healthy()


def test_options_flood_over_503_mode(server_factory, workdir):
    config = _open_config()
    config["limits"].update({"options_per_second": 5, "options_burst": 5, "over_limit": "503",
                             "block_seconds": 2})
    server, _ = _start(server_factory, workdir, access=config)
    codes = [options_ping(server.sip_port, local_host=STRANGER, timeout=1.0) for _ in range(8)]
    assert codes[:5] == [200] * 5, codes
    assert codes[5:] == [503] * 3, codes
    time.sleep(2.5)  # the block ends
    assert options_ping(server.sip_port, local_host=STRANGER, timeout=1.0) == 200
    server.assert_healthy()


# --- calls at once, calls per hour ---------------------------------------------------------

def test_calls_at_once_and_per_hour(server_factory, workdir):
    config = _open_config()
    config["trusted"] = ["127.0.0.0/8"]
    config["exempt"] = []
    config["limits"].update({"calls_per_source": 1, "calls_per_hour": {"echo": 3}})
    server, _ = _start(server_factory, workdir, access=config)
    # One long call up from 127.0.0.2: a second one at the same time is busy.
    long_call = Sipp("uac_call", server.sip_target, workdir, service="echo", duration_ms=3000,
                     local_ip="127.0.0.2", tag="long").start()
    time.sleep(1.0)
    busy = run_sipp("uac_call", server.sip_target, workdir, service="echo", duration_ms=100,
                    local_ip="127.0.0.2", tag="second", timeout_s=5)
    assert busy.successful == 0 and "SIP/2.0 486" in busy.messages, busy.explain()
    # Another source is not affected.
    other = run_sipp("uac_call", server.sip_target, workdir, service="echo", duration_ms=100,
                     local_ip="127.0.0.3", tag="other")
    assert other.successful == 1, other.explain()
    assert long_call.wait().successful == 1
    # echo allows 3 calls per hour per source: .2 has had 1 (the busy one never reached
    # the flow), so two more, then 503 with Retry-After.
    for i in range(2):
        r = run_sipp("uac_call", server.sip_target, workdir, service="echo", duration_ms=100,
                     local_ip="127.0.0.2", tag=f"hour{i}")
        assert r.successful == 1, r.explain()
    over = run_sipp("uac_call", server.sip_target, workdir, service="echo", duration_ms=100,
                    local_ip="127.0.0.2", tag="over", timeout_s=5)
    assert over.successful == 0 and "SIP/2.0 503" in over.messages, over.explain()
    assert re.search(r"Retry-After: \d+", over.messages), over.messages
    metrics = _metrics(server)
    assert _sample(metrics, "atende_sip_refused_total", reason="concurrent") == 1, metrics
    assert _sample(metrics, "atende_sip_refused_total", reason="cost") == 1, metrics
    server.assert_healthy()


# --- reload on SIGHUP ----------------------------------------------------------------------

def test_sighup_reloads_rules_and_a_bad_file_keeps_them(server_factory, workdir):
    server, cfg = _start(server_factory, workdir, access={"allow": ["127.0.0.1/32"]})
    assert options_ping(server.sip_port, local_host=STRANGER, timeout=1.0) is None
    cfg.write_text('access: {"allow": ["127.0.0.0/8"]}\n')
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and \
            options_ping(server.sip_port, local_host=STRANGER, timeout=0.5) != 200:
        time.sleep(0.2)
    assert options_ping(server.sip_port, local_host=STRANGER, timeout=1.0) == 200
    # A broken file: the log says why and the rules in force stay.
    cfg.write_text('access: {"allow": ["127.0.0.0/33"]}\n')
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "does not load" not in server.stderr_text():
        time.sleep(0.1)
    log = server.stderr_text()
    assert "does not load, the access rules in force stay" in log and "/33" in log, log
    assert options_ping(server.sip_port, local_host=STRANGER, timeout=1.0) == 200
    server.assert_healthy()


def test_persona_calls_per_hour(server_factory, workdir):
    """An AI persona costs money per call: persona_calls_per_hour caps each source."""
    from harness.fake_openai import FakeOpenAi
    source = pathlib.Path(os.environ.get("ATENDE_SOURCE_DIR",
                                         pathlib.Path(__file__).resolve().parents[2]))
    fake = FakeOpenAi()
    try:
        server, _ = _start(server_factory, workdir,
                           personas_dir=str(source / "personas"), llm_base_url=fake.base,
                           llm_model="fake-model", stt_engine="http", stt_base_url=fake.base,
                           access={"trusted": ["127.0.0.0/8"], "exempt": [],
                                   "limits": {"persona_calls_per_hour": 1}})
        first = run_sipp("uac_call", server.sip_target, workdir, service="sales",
                         duration_ms=300, local_ip="127.0.0.2", tag="persona1")
        assert first.successful == 1, first.explain()
        second = run_sipp("uac_call", server.sip_target, workdir, service="sales",
                          duration_ms=300, local_ip="127.0.0.2", tag="persona2", timeout_s=5)
        assert second.successful == 0 and "SIP/2.0 503" in second.messages, second.explain()
        # A plain flow is not capped, and another source has its own hour.
        echo = run_sipp("uac_call", server.sip_target, workdir, service="echo",
                        duration_ms=100, local_ip="127.0.0.2", tag="echo")
        assert echo.successful == 1, echo.explain()
        other = run_sipp("uac_call", server.sip_target, workdir, service="sales",
                         duration_ms=300, local_ip="127.0.0.3", tag="persona3")
        assert other.successful == 1, other.explain()
        metrics = _metrics(server)
        assert _sample(metrics, "atende_sip_refused_total", reason="cost") == 1, metrics
        server.assert_healthy()
    finally:
        fake.stop()
