"""transfer_to_human in the OpenAI Realtime engine (docs/realtime.md), over SIP and wss://:
baresip calls a persona with `engine: realtime` whose model (tests/fake_openai/fake_realtime.py,
reached over TLS with a certificate made at test time and trusted through realtime.ca_file)
greets, hears the caller ask for a person and calls transfer_to_human. atende says the
persona's hand-off, dials the persona's human (extension 9000 through a Kamailio trunk to a
second baresip), bridges the caller to them and closes the Realtime session: a tone from
each side reaches the other."""
import time

import pytest

from harness import audio, http_api
from harness.audio import has_tone, make_tone_wav, place_wavs
from harness.baresip import Baresip, callee
from harness.config import trunk, write_config
from harness.fake_realtime import FakeRealtime
from harness.kamailio import Kamailio
from harness.tls import self_signed

pytestmark = pytest.mark.atende_only

GREETING = "Hello, Restaurante Sabor, how can I help?"
ASK = "can I talk to a person please"
ASK_AT_S = 4.0

PERSONA = f"""
name: realtime-desk
engine: realtime
realtime:
  url: "${{ATENDE_TEST_REALTIME_URL}}"
  ca_file: "${{ATENDE_TEST_CA}}"
  vad: server
language: en
greeting: "{GREETING}"
system_prompt: "You answer for Restaurante Sabor."
tools: [transfer_to_human]
human: "9000"
handoff: "One moment, I am putting you through."
"""


def wait_for(predicate, timeout, step=0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def test_realtime_transfer_over_wss_bridges_the_caller(server_factory, workdir, monkeypatch):
    cert, key, _ = self_signed(workdir / "tls")
    rt = FakeRealtime(tls_cert=cert, tls_key=key)
    human = callee(workdir, make_tone_wav(workdir / "b.wav", 600, 10, pad_before_s=3,
                                          pad_after_s=30), user="9000", name="human")
    kam = Kamailio(workdir, routes={"9000": human.uri}).start()
    try:
        rt.script({"responses": [{"say": GREETING, "seconds": 1.5},
                                 {"tool_call": {"call_id": "call_1", "name": "transfer_to_human",
                                                "arguments": {"department": "front desk",
                                                              "reason": "asked for a person"}}}],
                   "transcripts": [ASK]})
        personas = workdir / "personas"
        personas.mkdir()
        (personas / "realtime-desk.yaml").write_text(PERSONA)
        monkeypatch.setenv("ATENDE_TEST_REALTIME_URL", rt.wss_url)
        monkeypatch.setenv("ATENDE_TEST_CA", str(cert))
        cfg = write_config(workdir, personas_dir=str(personas), trunks=[trunk("pbx", kam,
                                                                              default=True)])
        srv = server_factory(extra_args=["--config", str(cfg)])

        ask = audio.make_speech_wav(ASK, workdir / "ask.wav")
        tone = make_tone_wav(workdir / "tone1000.wav", 1000, 8)
        mic = place_wavs(workdir / "caller.wav", [(ASK_AT_S, ask), (16.0, tone)], total_s=60)
        phone = Baresip(workdir, mic, name="caller", max_seconds=60).start()
        try:
            assert phone.dial(f"sip:realtime-desk@{srv.sip_target}") is not None, phone.log()
            assert human.wait_log("Call established", 30), (human.log(), rt.received())
            time.sleep(12)  # both tones cross the bridge
            calls = http_api.get_json(srv.http_base + "/api/calls")
            phone.hangup()
        finally:
            phone.stop()
            human.stop()
        inbound = [c for c in calls if c["direction"] == "inbound"][0]
        rec = wait_for(lambda: (r := http_api.get_json(
            f"{srv.http_base}/api/calls/{inbound['id']}")).get("ended_at") and r, 15)
        assert rec, inbound
        kinds = [e["kind"] for e in rec["events"]]
        assert "transfer_to_human" in kinds and "transfer" in kinds and "bridge" in kinds, kinds
        assert "transfer_failed" not in kinds, rec["events"]
        said = [e["detail"] for e in rec["events"] if e["kind"] == "agent_said"]
        assert "One moment, I am putting you through." in said, rec["events"]
        assert len(rec["legs"]) == 1 and rec["legs"][0]["answered_at"], rec["legs"]
        assert has_tone(phone.received_wav(), 600, min_seconds=2), "caller did not hear the human"
        assert has_tone(human.received_wav(), 1000, min_seconds=2), "human did not hear the caller"

        # The model was reached over TLS; the transfer happened, so the call got no output.
        assert rt.received("session.update"), rt.received()
        outputs = [e for e in rt.received("conversation.item.create")
                   if e["item"]["type"] == "function_call_output"]
        assert outputs == [], outputs
    finally:
        kam.stop()
        rt.stop()
