"""The gRPC control service (docs/grpc.md): each Python example in examples/grpc/ runs
against atende with a real caller or callee (baresip, SIPp); a token is required; a
controller that vanishes mid-call ends its call cleanly (recorded as controller_gone)
while another controlled call goes on."""
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from harness import audio, build_info, http_api
from harness.baresip import Baresip
from harness.config import write_config
from harness.ports import free_port
from harness.sipp import Sipp, SippUas, dtmf_actions, run_sipp

pytestmark = [
    pytest.mark.atende_only,
    pytest.mark.skipif(not build_info.grpc_built(),
                       reason="atende was built without gRPC (ATENDE_GRPC=OFF)"),
]

TOKEN = "grpc-test-token-0123456789"
SOURCE = pathlib.Path(os.environ.get("ATENDE_SOURCE_DIR") or
                      pathlib.Path(__file__).resolve().parents[2])
EXAMPLES = SOURCE / "examples" / "grpc"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
EXTENSION = "7000"  # the dial plan parks calls to it for a controller
PHRASE = "the quick brown fox jumps over the lazy dog"


def start_server(server_factory, workdir, park_seconds=15, ring_seconds=30, **extra):
    cfg = write_config(workdir, api_tokens=[{"name": "ctl", "token": TOKEN,
                                             "allow": ["sip:*"], "rate_per_minute": 600,
                                             "burst": 100}],
                       dialplan=[{"match": EXTENSION, "flow": "controller"}],
                       grpc_park_seconds=park_seconds, grpc_ring_seconds=ring_seconds, **extra)
    port = free_port()
    srv = server_factory(extra_args=["--config", str(cfg), "--grpc-listen", f"127.0.0.1:{port}"])
    srv.grpc_target = f"127.0.0.1:{port}"
    return srv


class Example:
    """One examples/grpc/*.py run in the background; its stdout lines are kept."""

    def __init__(self, name, srv, workdir, *args, token=TOKEN):
        self.log = pathlib.Path(workdir) / f"{name}-{free_port()}.log"
        self.proc = subprocess.Popen(
            [PYTHON, str(EXAMPLES / name), "--target", srv.grpc_target, "--token", token,
             *map(str, args)], stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
            cwd=str(EXAMPLES))

    def text(self):
        return self.log.read_text(errors="replace")

    def wait_line(self, prefix, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.text().splitlines():
                if line.startswith(prefix):
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no line '{prefix}' from the example:\n{self.text()}")

    def call_id(self, timeout=30.0):
        return self.wait_line("attached call=", timeout).split("call=")[1].split()[0]

    def wait(self, timeout=60.0):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"the example did not finish:\n{self.text()}")


def test_answer_echo_with_baresip(server_factory, workdir, audiotool):
    srv = start_server(server_factory, workdir)
    speak_at, hangup_at = 3.0, 9.0
    phrase = audio.make_speech_wav(PHRASE, workdir / "phrase.wav")
    mic = audio.make_speech_wav(PHRASE, workdir / "mic.wav", pad_before_s=speak_at,
                                pad_after_s=hangup_at - speak_at + 10)
    echo = Example("answer_echo.py", srv, workdir)
    phone = Baresip(workdir, mic, max_seconds=40).start()
    try:
        assert phone.dial(f"sip:{EXTENSION}@{srv.sip_target}") is not None, phone.log()
        call_id = echo.call_id()
        started = time.monotonic()
        time.sleep(hangup_at)
        phone.hangup()
    finally:
        phone.stop()
    assert echo.wait() == 0, echo.text()
    assert "event hangup" in echo.text(), echo.text()
    echoed = int(echo.wait_line("echoed ").split()[1])
    assert echoed > 100, echo.text()  # ~50 frames a second for several seconds

    heard = phone.received_wav()
    assert heard is not None, f"baresip recorded nothing\n{phone.log()}"
    found = audio.find_phrase(phrase, heard, audiotool)
    assert found["score"] >= (0.5 if found["method"] == "audiotool" else 0.8), found
    assert speak_at - 0.5 <= found["offset_s"] <= speak_at + 3.0, found

    rec = http_api.wait_call_ended(srv.http_base, call_id, 20)
    assert rec["flow"] == "controller" and rec["end_reason"] == "remote_bye", rec
    kinds = [e["kind"] for e in rec["events"]]
    assert "controller" in kinds, kinds
    del started


def test_prompt_and_digit_with_sipp(server_factory, workdir):
    srv = start_server(server_factory, workdir)
    prompt = Example("prompt_and_digit.py", srv, workdir)
    # The digit goes ~3 s after the answer (the prompt has been said); then SIPp waits
    # for our BYE (the example hangs up after confirming), so its own BYE never goes.
    caller = Sipp("uac_dtmf", srv.sip_target, workdir, service=EXTENSION, duration_ms=30000,
                  timeout_s=45, substitutions={"LEAD_MS": 3000, "DTMF_PCAPS": dtmf_actions("7")})
    caller.start()
    try:
        call_id = prompt.call_id()
        assert prompt.wait() == 0, prompt.text()
    finally:
        caller.stop()
    assert "digit=7" in prompt.text(), prompt.text()
    rec = http_api.wait_call_ended(srv.http_base, call_id, 20)
    assert rec["end_reason"] == "controller_hangup", rec
    assert rec["digits"] == "7", rec


def test_dial_and_bridge_with_sipp(server_factory, workdir):
    srv = start_server(server_factory, workdir)
    first = SippUas("uas_answer", workdir, ring_ms=300, tag="first").start()
    second = SippUas("uas_answer", workdir, ring_ms=300, tag="second").start()
    run = Example("dial_and_bridge.py", srv, workdir, "--first", first.uri("1001"),
                  "--second", second.uri("1002"), "--talk-seconds", "2")
    assert run.wait(90) == 0, run.text()
    out = run.text()
    assert "bridged" in out and "hung up" in out, out
    line = run.wait_line("dialled ")
    a = line.split("first=")[1].split()[0]
    b = line.split("second=")[1].split()[0]
    rec_a = http_api.wait_call_ended(srv.http_base, a, 20)
    rec_b = http_api.wait_call_ended(srv.http_base, b, 20)
    assert rec_a["answered_at"] and rec_b["answered_at"], (rec_a, rec_b)
    assert "bridge" in [e["kind"] for e in rec_a["events"]], rec_a
    assert "moved" in [e["kind"] for e in rec_b["events"]], rec_b
    assert first.wait().successful == 1 and second.wait().successful == 1


def test_a_token_is_required(server_factory, workdir):
    srv = start_server(server_factory, workdir)
    for token in ("", "wrong-token-0123456789abcdef"):
        run = Example("dial_and_bridge.py", srv, workdir, "--first", "sip:a@127.0.0.1:9",
                      "--second", "sip:b@127.0.0.1:9", token=token)
        assert run.wait() == 1, run.text()
        assert "UNAUTHENTICATED" in run.text(), run.text()
        echo = Example("answer_echo.py", srv, workdir, "--wait", "1", token=token)
        assert echo.wait() == 1, echo.text()
        assert "UNAUTHENTICATED" in echo.text(), echo.text()
    # Nothing was placed.
    assert http_api.get_json(f"{srv.http_base}/api/calls") == []
    assert token not in srv.stderr_text()


def test_controller_killed_mid_call_ends_only_its_call(server_factory, workdir):
    srv = start_server(server_factory, workdir)
    doomed = Example("answer_echo.py", srv, workdir)
    caller1 = Sipp("uac_call", srv.sip_target, workdir, service=EXTENSION, duration_ms=30000,
                   timeout_s=45, tag="doomed").start()
    try:
        doomed_id = doomed.call_id()
        doomed.wait_line("event answered")  # mid-call: it rang, and the example answered it
        survivor = Example("answer_echo.py", srv, workdir)
        caller2 = Sipp("uac_call", srv.sip_target, workdir, service=EXTENSION, duration_ms=8000,
                       timeout_s=45, tag="survivor").start()
        survivor_id = survivor.call_id()
        survivor.wait_line("event answered")
        doomed.proc.send_signal(signal.SIGKILL)  # no goodbye: the TCP connection just dies
        doomed.proc.wait(10)
        rec = http_api.wait_call_ended(srv.http_base, doomed_id, 20)
        assert rec["end_reason"] == "controller_gone", rec
        details = [e.get("detail", "") for e in rec["events"] if e["kind"] == "controller"]
        assert any(d.startswith("detached") for d in details), rec
        # The other call carries on until its caller hangs up.
        result = caller2.wait()
        assert result.successful == 1, result.explain()
        assert survivor.wait() == 0, survivor.text()
        rec2 = http_api.wait_call_ended(srv.http_base, survivor_id, 20)
        assert rec2["end_reason"] == "remote_bye", rec2
        assert int(survivor.wait_line("echoed ").split()[1]) > 100, survivor.text()
    finally:
        caller1.stop()
    metrics = http_api.get_text(f"{srv.http_base}/metrics")
    assert http_api.metric_value(metrics, "atende_grpc_controllers") == 0, metrics
    assert http_api.metric_value(metrics, "atende_grpc_frames_dropped_total") is not None


def test_a_call_no_controller_takes_rings_out_with_480(server_factory, workdir):
    """No controller attaches at all: the caller hears ringing (180) until grpc_ring_seconds,
    then gets 480; the record says ring_timeout, and nothing is left parked."""
    srv = start_server(server_factory, workdir, ring_seconds=2)
    caller = Sipp("uac_ring_refused", srv.sip_target, workdir, service=EXTENSION,
                  timeout_s=30, substitutions={"STATUS": 480}).start()
    result = caller.wait()
    assert result.successful == 1, result.explain()
    calls = http_api.wait_calls(srv.http_base, lambda c: len(c) == 1 and c[0]["ended_at"],
                                timeout=20)
    assert calls[0]["end_reason"] == "ring_timeout", calls[0]
    assert calls[0]["answered_at"] is None and calls[0]["sip_status"] == 480, calls[0]
    metrics = http_api.get_text(f"{srv.http_base}/metrics")
    assert http_api.metric_value(metrics, "atende_grpc_parked_calls") == 0, metrics


class RingingController:
    """A controller (this test's own, on the example's stubs) that takes the next ringing
    call and records every message; the test decides when it answers or refuses."""

    def __init__(self, srv):
        import queue
        import threading
        sys.path.insert(0, str(EXAMPLES))
        from atende_grpc import load_stubs, metadata
        import grpc
        self.pb, pb_grpc = load_stubs()
        self.stub = pb_grpc.AtendeStub(grpc.insecure_channel(srv.grpc_target))
        self.outbox = queue.Queue()
        self.outbox.put(self.pb.ClientMsg(attach=self.pb.Attach(wait_seconds=30)))
        self.events, self.call_id = [], None
        self.ringing = threading.Event()
        self.stream = self.stub.Call(iter(self.outbox.get, None), metadata=metadata(TOKEN),
                                     timeout=60)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for msg in self.stream:
                kind = msg.WhichOneof("msg")
                if kind == "attached":
                    self.call_id = msg.attached.call_id
                elif kind == "event":
                    self.events.append((msg.event.type, msg.event.reason))
                    if msg.event.type == "ringing":
                        self.ringing.set()
                    elif msg.event.type == "hangup":
                        break
        finally:
            self.outbox.put(None)

    def send(self, **msg):
        self.outbox.put(self.pb.ClientMsg(**msg))

    def finish(self, timeout=30):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), self.events
        return [e[0] for e in self.events]


def wait_live_call(srv, timeout=20):
    """The one live call as /api/live shows it (its state says ringing or answered)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        live = http_api.get_json(f"{srv.http_base}/api/live")
        if live:
            return live[0]
        time.sleep(0.1)
    raise AssertionError("no live call")


def test_a_call_rings_until_the_controller_answers(server_factory, workdir):
    """The caller hears 180 and no answer while the controller holds it; Answer brings the
    200 (SIPp requires the 180 before it), the `answered` event, and the call goes on until
    the caller's BYE."""
    srv = start_server(server_factory, workdir)
    ctl = RingingController(srv)
    caller = Sipp("uac_ring_answer", srv.sip_target, workdir, service=EXTENSION,
                  duration_ms=2000, timeout_s=45).start()
    try:
        assert ctl.ringing.wait(30), ctl.events
        # Held: the session rings, nothing is answered, however long we look.
        live = wait_live_call(srv)
        assert live["state"] == "ringing", live
        assert "SIP/2.0 200" not in caller.msg_file.read_text(errors="replace")
        ctl.send(answer=ctl.pb.Answer())
        result = caller.wait()
    finally:
        caller.stop()
    assert result.successful == 1, result.explain()
    types = ctl.finish()
    assert types.index("ringing") < types.index("answered") < types.index("hangup"), types
    rec = http_api.wait_call_ended(srv.http_base, ctl.call_id, 20)
    assert rec["answered_at"] and rec["end_reason"] == "remote_bye", rec
    details = [e.get("detail", "") for e in rec["events"] if e["kind"] == "controller"]
    assert "answered by its controller" in details, rec


def tone_pcm(hz=600, seconds=1.5, rate=8000):
    """A sine at `hz`, s16le mono: what the controller plays as early media."""
    import math
    import struct
    n = int(seconds * rate)
    return b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * hz * i / rate)))
                    for i in range(n))


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_progress_gives_a_ringing_call_early_media(server_factory, workdir):
    """Progress{} on a call that rings: the caller gets 183 with SDP (SIPp requires it after
    the 180 and before the 200), the controller hears `early_media`, and what it plays
    reaches the caller's RTP address while nothing is answered; Answer then brings the 200
    and `answered`, and the record keeps the early media and the answer."""
    import socket
    srv = start_server(server_factory, workdir)
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", 0))
    rtp.settimeout(0.2)
    ctl = RingingController(srv)
    caller = Sipp("uac_ring_early", srv.sip_target, workdir, service=EXTENSION,
                  duration_ms=1000, timeout_s=45,
                  substitutions={"RTP_PORT": rtp.getsockname()[1]}).start()
    try:
        assert ctl.ringing.wait(30), ctl.events
        ctl.send(progress=ctl.pb.Progress())
        wait_for(lambda: "early_media" in [e[0] for e in ctl.events], 20, "early_media")
        ctl.send(play=ctl.pb.Play(pcm=tone_pcm(), sample_rate=8000))
        # The tone reaches the caller (PCMU other than silence) while the call rings.
        toned = 0
        deadline = time.monotonic() + 20
        while toned < 25 and time.monotonic() < deadline:
            try:
                packet = rtp.recv(2048)
            except socket.timeout:
                continue
            if len(packet) > 12 and any(b not in (0xFF, 0x7F) for b in packet[12:]):
                toned += 1
        assert toned >= 25, f"only {toned} packets of the tone before the answer"
        # Not answered (the scenario itself requires the 183 before any 200).
        assert "SIP/2.0 200" not in caller.msg_file.read_text(errors="replace")
        assert wait_live_call(srv)["state"] == "ringing"
        ctl.send(answer=ctl.pb.Answer())
        result = caller.wait()
    finally:
        caller.stop()
        rtp.close()
    assert result.successful == 1, result.explain()
    types = ctl.finish()
    assert (types.index("ringing") < types.index("early_media") < types.index("answered")
            < types.index("hangup")), types
    rec = http_api.wait_call_ended(srv.http_base, ctl.call_id, 20)
    assert rec["answered_at"] and rec["end_reason"] == "remote_bye", rec
    kinds = [e["kind"] for e in rec["events"]]
    assert "early_media" in kinds and kinds.index("early_media") < kinds.index("answered"), kinds


@pytest.mark.parametrize("how,status,reason", [
    ("reject", 486, "controller_rejected"),
    ("hangup", 603, "controller_hangup"),
])
def test_a_ringing_call_refused_gets_the_chosen_status(server_factory, workdir, how, status,
                                                        reason):
    """Reject{status} (or HangupCall while it rings: 603) refuses the call with that SIP
    final status; the controller's stream ends with the hang-up, the record keeps both."""
    srv = start_server(server_factory, workdir)
    ctl = RingingController(srv)
    caller = Sipp("uac_ring_refused", srv.sip_target, workdir, service=EXTENSION,
                  timeout_s=45, substitutions={"STATUS": status}).start()
    try:
        assert ctl.ringing.wait(30), ctl.events
        if how == "reject":
            ctl.send(reject=ctl.pb.Reject(status=status))
        else:
            ctl.send(hangup=ctl.pb.HangupCall())
        result = caller.wait()
    finally:
        caller.stop()
    assert result.successful == 1, result.explain()
    assert ctl.finish()[-1] == "hangup" and ctl.events[-1][1] == reason, ctl.events
    rec = http_api.wait_call_ended(srv.http_base, ctl.call_id, 20)
    assert rec["end_reason"] == reason and rec["sip_status"] == status, rec
    assert rec["answered_at"] is None, rec


def test_a_controller_that_never_answers_rings_out(server_factory, workdir):
    """A controller takes the ringing call but neither answers nor refuses it: after
    grpc_ring_seconds the caller gets 480, and the controller's stream ends with it."""
    srv = start_server(server_factory, workdir, ring_seconds=3)
    ctl = RingingController(srv)
    caller = Sipp("uac_ring_refused", srv.sip_target, workdir, service=EXTENSION,
                  timeout_s=45, substitutions={"STATUS": 480}).start()
    try:
        assert ctl.ringing.wait(30), ctl.events
        result = caller.wait()
    finally:
        caller.stop()
    assert result.successful == 1, result.explain()
    assert ctl.finish()[-1] == "hangup" and ctl.events[-1][1] == "ring_timeout", ctl.events
    rec = http_api.wait_call_ended(srv.http_base, ctl.call_id, 20)
    assert rec["end_reason"] == "ring_timeout" and rec["sip_status"] == 480, rec


def test_start_flow_watches_it_and_gets_the_call_back(server_factory, workdir):
    """StartFlow runs flows/time.yaml on the call in watch mode: its events reach the stream,
    and when it hangs up the call is the controller's again (flow_ended), which says a last
    word and hangs up itself."""
    import queue
    sys.path.insert(0, str(EXAMPLES))
    from atende_grpc import load_stubs, metadata
    import grpc

    pb, pb_grpc = load_stubs()
    srv = start_server(server_factory, workdir)
    stub = pb_grpc.AtendeStub(grpc.insecure_channel(srv.grpc_target))
    outbox = queue.Queue()
    outbox.put(pb.ClientMsg(attach=pb.Attach(wait_seconds=30)))
    caller = Sipp("uac_call", srv.sip_target, workdir, service=EXTENSION, duration_ms=40000,
                  timeout_s=60).start()
    events, call_id, back = [], None, False
    try:
        for msg in stub.Call(iter(outbox.get, None), metadata=metadata(TOKEN), timeout=60):
            kind = msg.WhichOneof("msg")
            if kind == "attached":
                call_id = msg.attached.call_id
            if kind != "event":
                continue
            ev = msg.event
            events.append((ev.type, ev.text, ev.reason, dict(ev.data)))
            if ev.type == "ringing":
                outbox.put(pb.ClientMsg(answer=pb.Answer()))
            elif ev.type == "answered" and not back:
                outbox.put(pb.ClientMsg(start_flow=pb.StartFlow(flow="time")))
            elif ev.type == "flow_ended":
                back = True
                outbox.put(pb.ClientMsg(say=pb.Say(text="Back to the controller.")))
            elif ev.type == "playout_idle" and back:
                outbox.put(pb.ClientMsg(hangup=pb.HangupCall()))
            elif ev.type == "hangup":
                break
    finally:
        outbox.put(None)
        caller.stop()
    types = [e[0] for e in events]
    assert "flow_started" in types and "flow_ended" in types, events
    assert any(e[0] == "flow_event" and e[3].get("kind") == "hangup" for e in events), events
    ended = next(e for e in events if e[0] == "flow_ended")
    assert ended[1] == "time", events
    assert events[-1][0] == "hangup" and events[-1][2] == "controller_hangup", events
    rec = http_api.wait_call_ended(srv.http_base, call_id, 20)
    assert rec["end_reason"] == "controller_hangup", rec
    details = [e["detail"] for e in rec["events"] if e["kind"] == "controller"]
    assert "started time" in details, rec


def test_a_watcher_that_vanishes_leaves_the_flow_running(server_factory, workdir):
    """In watch mode the flow owns the call: its controller going away is recorded, and the
    call goes on until the caller hangs up."""
    import queue
    sys.path.insert(0, str(EXAMPLES))
    from atende_grpc import load_stubs, metadata
    import grpc

    pb, pb_grpc = load_stubs()
    srv = start_server(server_factory, workdir)
    stub = pb_grpc.AtendeStub(grpc.insecure_channel(srv.grpc_target))
    outbox = queue.Queue()
    outbox.put(pb.ClientMsg(attach=pb.Attach(wait_seconds=30)))
    caller = Sipp("uac_call", srv.sip_target, workdir, service=EXTENSION, duration_ms=8000,
                  timeout_s=40).start()
    call_id = None
    stream = stub.Call(iter(outbox.get, None), metadata=metadata(TOKEN), timeout=60)
    for msg in stream:
        if msg.WhichOneof("msg") == "attached":
            call_id = msg.attached.call_id
        elif msg.WhichOneof("msg") == "event" and msg.event.type == "ringing":
            outbox.put(pb.ClientMsg(answer=pb.Answer()))
        elif msg.WhichOneof("msg") == "event" and msg.event.type == "answered":
            outbox.put(pb.ClientMsg(start_flow=pb.StartFlow(flow="echo")))
        elif msg.WhichOneof("msg") == "event" and msg.event.type == "flow_started":
            break
    stream.cancel()  # the controller goes away while the echo flow runs
    outbox.put(None)
    result = caller.wait()
    assert result.successful == 1, result.explain()  # the caller hung up as planned
    rec = http_api.wait_call_ended(srv.http_base, call_id, 20)
    assert rec["end_reason"] == "remote_bye", rec
    details = [e["detail"] for e in rec["events"] if e["kind"] == "controller"]
    assert "started echo" in details, rec
    assert any(d.startswith("detached") for d in details), rec


def test_start_agent_streams_its_transcript(server_factory, workdir):
    """StartAgent runs the sales persona (LLM and transcription: the fake OpenAI server) on
    the call: the controller hears the caller's words and the agent's answer as transcript
    events, and gets the call back when the agent ends it."""
    import queue
    import threading
    sys.path.insert(0, str(EXAMPLES))
    from atende_grpc import load_stubs, metadata
    from harness.fake_openai import FakeOpenAi
    import grpc

    said = "I would like to hear more about it"
    answer = "Great. Atende answers every call for you. Goodbye."
    fake = FakeOpenAi()
    try:
        fake.script({"transcriptions": [{"text": said}],
                     "chat": [{"content": answer,
                               "tool_calls": [{"id": "call_1", "name": "end_call",
                                               "arguments": {"reason": "done"}}]}]})
        srv = start_server(server_factory, workdir, personas_dir=str(SOURCE / "personas"),
                           llm_base_url=fake.base, llm_model="fake-model", stt_engine="http",
                           stt_base_url=fake.base)
        pb, pb_grpc = load_stubs()
        stub = pb_grpc.AtendeStub(grpc.insecure_channel(srv.grpc_target))
        outbox = queue.Queue()
        outbox.put(pb.ClientMsg(attach=pb.Attach(wait_seconds=30)))
        events = []

        def control():
            for msg in stub.Call(iter(outbox.get, None), metadata=metadata(TOKEN), timeout=90):
                if msg.WhichOneof("msg") != "event":
                    continue
                ev = msg.event
                events.append((ev.type, ev.text, ev.reason, dict(ev.data)))
                if ev.type == "ringing":
                    outbox.put(pb.ClientMsg(answer=pb.Answer()))
                elif ev.type == "answered":
                    outbox.put(pb.ClientMsg(start_agent=pb.StartAgent(persona="sales")))
                elif ev.type == "flow_ended":
                    outbox.put(pb.ClientMsg(hangup=pb.HangupCall()))
                elif ev.type == "hangup":
                    break
            outbox.put(None)

        controller = threading.Thread(target=control, daemon=True)
        controller.start()
        mic = audio.make_speech_wav(said, workdir / "mic.wav", pad_before_s=8.0,
                                    pad_after_s=30)
        phone = Baresip(workdir, mic, max_seconds=60).start()
        try:
            assert phone.dial(f"sip:{EXTENSION}@{srv.sip_target}") is not None, phone.log()
            controller.join(60)
        finally:
            phone.stop()
    finally:
        fake.stop()
    assert not controller.is_alive(), events
    transcripts = [(e[3].get("role"), e[1]) for e in events if e[0] == "transcript"]
    assert ("caller", said) in transcripts and ("agent", answer) in transcripts, events
    assert any(e[0] == "flow_ended" and e[1] == "sales" for e in events), events
    assert events[-1][0] == "hangup" and events[-1][2] == "controller_hangup", events
