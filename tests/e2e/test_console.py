"""The web console (web/, docs/console.md) in headless Chromium against a running atende:
a wrong token is refused; a call that baresip places to a persona shows up on the live page
while it is up, and its page then holds the transcript and the latency waterfall; the
start-a-call form dials a baresip callee, sees it answered and hangs it up; /talk speaks to
the IVR with a fake microphone fed from an espeak-ng WAV. Screenshots of the main pages go
to docs/screenshots/.

Chromium is Debian's, driven by npm playwright-core from web/node_modules through
console/console.mjs (one step per run). Both are installed by `make test` (install-deps,
make web): when either is missing the tests fail, they do not skip.
"""
import base64
import json
import os
import pathlib
import shutil
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

from harness import audio
from harness.baresip import Baresip, callee
from harness.fake_openai import FakeOpenAi

pytestmark = pytest.mark.atende_only

SOURCE = pathlib.Path(os.environ.get("ATENDE_SOURCE_DIR",
                                     pathlib.Path(__file__).resolve().parents[2]))
WEB = SOURCE / "web"
DIST = WEB / "dist"
DRIVER = pathlib.Path(__file__).resolve().parent / "console" / "console.mjs"
SCREENSHOTS = SOURCE / "docs" / "screenshots"
TOKEN = "console-token-0123456789abcdef"
SAID = "I would like to hear more about it"
ANSWER = "Great. Atende answers every call for you. Talk soon, goodbye."
SPEAK_AT_S = 8.0  # the persona's greeting (~5 s) is over by then
STEP_TIMEOUT_S = 120


@pytest.fixture(autouse=True)
def console_built(monkeypatch):
    """The built console and the browser must be there (make web, install-deps)."""
    missing = [what for what, ok in [
        ("node (scripts/install-deps)", shutil.which("node")),
        ("chromium (scripts/install-deps)", shutil.which("chromium")),
        ("web/dist/index.html (make web)", (DIST / "index.html").is_file()),
        ("web/node_modules/playwright-core (make web)",
         (WEB / "node_modules" / "playwright-core").is_dir()),
    ] if not ok]
    if missing:
        pytest.fail("the console's browser tests need: " + ", ".join(missing))
    # console-api's atende finds the console here whatever its configure-time default.
    monkeypatch.setenv("ATENDE_WEB_ROOT", str(DIST))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)


def write_config(workdir, extra=""):
    tokens = [{"name": "console", "token": TOKEN, "allow": ["sip:*"],
               "rate_per_minute": 6000, "burst": 1000}]
    path = workdir / "console.yaml"
    path.write_text(f"api_tokens: {json.dumps(tokens)}\n{extra}")
    return path


def api_get(srv, path):
    req = urllib.request.Request(srv.http_base + path,
                                 headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def events_stream_served(srv):
    """True when atende has GET /api/events (the live page then follows it, not polling)."""
    req = urllib.request.Request(srv.http_base + "/api/events",
                                 headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status == 200
    except urllib.error.HTTPError as e:
        if e.code in (404, 405):
            return False
        raise


def dist_if_not_served(srv):
    """None when atende serves the console itself (it must: the driver can still answer
    web/dist from the browser's request routing, for a server without web_root)."""
    try:
        with urllib.request.urlopen(srv.http_base + "/", timeout=5) as r:
            if b'id="root"' in r.read():
                return None
    except OSError:
        pass
    pytest.fail("atende does not serve the console at / (web_root, docs/console.md): "
                f"is {DIST} built (make web)?")


def options(srv, tmp_path, step, **extra):
    return {"step": step, "base": srv.http_base, "token": TOKEN,
            "screenshots": str(SCREENSHOTS), "failureDir": str(tmp_path),
            "serveDist": dist_if_not_served(srv), "timeoutMs": 60000, **extra}


def parse(output):
    lines = []
    for text in output.splitlines():
        try:
            lines.append(json.loads(text))
        except ValueError:
            lines.append({"text": text})
    return lines


def run_step(srv, tmp_path, step, **extra):
    """Runs one driver step to its end; returns its {"ok": ...} line."""
    proc = subprocess.run(["node", str(DRIVER), json.dumps(options(srv, tmp_path, step, **extra))],
                          capture_output=True, text=True, timeout=STEP_TIMEOUT_S)
    return finish(step, proc.returncode, proc.stdout, proc.stderr)


def finish(step, code, stdout, stderr):
    lines = parse(stdout)
    assert code == 0, f"console step {step} failed ({code}):\n{stdout}\n{stderr[-3000:]}"
    done = [line for line in lines if "ok" in line]
    assert done, f"console step {step} printed no result:\n{stdout}"
    return done[-1]


class StepInBackground:
    """A driver step that waits for something the test then causes (e.g. a call)."""

    def __init__(self, srv, tmp_path, step, until_event, **extra):
        self.step = step
        self.proc = subprocess.Popen(
            ["node", str(DRIVER), json.dumps(options(srv, tmp_path, step, **extra))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.seen = []
        for text in self.proc.stdout:  # blocks until the driver is ready (or exits)
            self.seen.append(text)
            if json.loads(text).get("event") == until_event:
                return
        self.result()  # exited before it was ready: fail with its output

    def result(self):
        try:
            out, err = self.proc.communicate(timeout=STEP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return finish(self.step, self.proc.returncode, "".join(self.seen) + out, err)


def test_wrong_token_is_refused_and_pages_render(server_factory, workdir, tmp_path):
    srv = server_factory(extra_args=["--config", str(write_config(workdir))])
    result = run_step(srv, tmp_path, "login_refused")
    assert "refused" in result["text"], result
    proc = subprocess.run(["node", str(DRIVER), json.dumps(options(srv, tmp_path, "pages"))],
                          capture_output=True, text=True, timeout=STEP_TIMEOUT_S)
    result = finish("pages", proc.returncode, proc.stdout, proc.stderr)
    assert result["to"] == "/start", result
    validated = [line["text"] for line in parse(proc.stdout) if line.get("event") == "validated"]
    if validated:  # the server lists flows: the shipped flow it showed is valid
        assert validated[0].startswith("Valid:"), validated


@pytest.fixture
def fake():
    f = FakeOpenAi()
    yield f
    f.stop()


def test_live_call_then_its_transcript_and_latency(server_factory, workdir, tmp_path, fake):
    fake.script({"transcriptions": [{"text": SAID}],
                 "chat": [{"content": ANSWER,
                           "tool_calls": [{"id": "call_1", "name": "end_call",
                                           "arguments": {"reason": "done"}}]}]})
    cfg = write_config(workdir, f"personas_dir: {SOURCE / 'personas'}\n"
                                f"llm_base_url: {fake.base}\nllm_model: fake-model\n"
                                f"stt_engine: http\nstt_base_url: {fake.base}\n")
    srv = server_factory(extra_args=["--config", str(cfg)])
    mic = audio.make_speech_wav(SAID, workdir / "mic.wav", pad_before_s=SPEAK_AT_S,
                                pad_after_s=30)
    watcher = StepInBackground(srv, tmp_path, "live", "watching", flow="sales")
    phone = Baresip(workdir, mic, max_seconds=60).start()
    try:
        assert phone.dial(f"sip:sales@{srv.sip_target}") is not None, phone.log()
        live = watcher.result()
        call_id = live["id"]
        # Pushed over GET /api/events (the page falls back to polling only on a server
        # without it, and says so).
        assert events_stream_served(srv), "GET /api/events is missing"
        want = "live"
        assert live["mode"] == want, live
        # The persona ends the call itself (end_call) once it has answered.
        record = wait_for(lambda: api_get(srv, f"/api/calls/{call_id}"),
                          lambda c: c["ended_at"] and len(c["turns"]) >= 2, 60)
    finally:
        phone.stop()
    assert record["flow"] == "sales", record
    result = run_step(srv, tmp_path, "call_page", callId=call_id, expectTexts=[SAID, ANSWER],
                      flow="sales", checkFilters=True)
    assert result["labels"] == ["end of speech", "transcript", "first token", "first audio",
                                "first RTP"], result
    assert all(v.endswith("ms") for v in result["values"]), result


def test_start_call_form_reaches_a_callee(server_factory, workdir, tmp_path):
    peer = callee(workdir, audio.make_silence_wav(workdir / "callee.wav", 30), max_seconds=60)
    try:
        srv = server_factory(extra_args=["--config", str(write_config(workdir))])
        result = run_step(srv, tmp_path, "start_call", to=peer.uri, flow="echo")
        record = wait_for(lambda: api_get(srv, f"/api/calls/{result['id']}"),
                          lambda c: c["ended_at"], 30)
    finally:
        peer.stop()
    assert record["direction"] == "outbound" and record["answered_at"], record
    assert record["to"].startswith(peer.uri), record


def asp_takes_token_as_subprotocol(srv):
    """True when /asp opens for a browser: the token as a subprotocol, no header."""
    proto = "bearer." + base64.urlsafe_b64encode(TOKEN.encode()).decode().rstrip("=")
    request = (f"GET /asp HTTP/1.1\r\nHost: {srv.host}:{srv.http_port}\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: atende-asp, {proto}\r\n\r\n")
    with socket.create_connection((srv.host, srv.http_port), timeout=5) as s:
        s.sendall(request.encode())
        head = s.recv(4096).decode("latin-1")
    return head.startswith("HTTP/1.1 101") and "atende-asp" in head


def test_talk_in_the_browser(server_factory, workdir, tmp_path):
    srv = server_factory(extra_args=["--config", str(write_config(workdir))])
    assert dist_if_not_served(srv) is None
    assert asp_takes_token_as_subprotocol(srv), "/asp refused the token as a subprotocol"
    # Chromium loops the file: the menu's prompt, then the caller's choice, again and again.
    mic = audio.make_speech_wav("echo test", workdir / "talk.wav", rate=16000,
                                pad_before_s=7, pad_after_s=4)
    result = run_step(srv, tmp_path, "talk", to="ivr", role="caller", expect="echo",
                      fakeAudio=str(mic))
    assert any("echo" in line.lower() for line in result["lines"]), result


def wait_for(fetch, predicate, timeout):
    import time
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if predicate(value) or time.monotonic() > deadline:
            assert predicate(value), value
            return value
        time.sleep(0.3)
