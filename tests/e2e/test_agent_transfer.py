"""The agent's transfer_to_human, over SIP: the caller (baresip) asks for a person, the
scripted LLM (tests/fake_openai) calls the tool, atende dials the persona's human (extension
9000 through a Kamailio trunk to a second baresip), says the hand-off, bridges and leaves:
a tone from each side reaches the other. When the human is busy, the caller is told and the
agent carries on."""
import os
import pathlib
import time

import pytest

from harness import audio, http_api
from harness.audio import has_tone, make_tone_wav, place_wavs
from harness.baresip import Baresip, callee
from harness.config import write_config
from harness.fake_openai import FakeOpenAi
from harness.kamailio import Kamailio

pytestmark = pytest.mark.atende_only

SOURCE = pathlib.Path(os.environ.get("ATENDE_SOURCE_DIR",
                                     pathlib.Path(__file__).resolve().parents[2]))
SPEAK_AT_S = 8.0  # the greeting is over by then


@pytest.fixture
def fake():
    f = FakeOpenAi()
    yield f
    f.stop()


def start(server_factory, workdir, fake, kam):
    cfg = write_config(workdir, personas_dir=str(SOURCE / "personas"), llm_base_url=fake.base,
                       llm_model="fake-model", stt_engine="http", stt_base_url=fake.base,
                       trunks=[{"name": "pbx", "host": "127.0.0.1", "port": kam.port,
                                "default": True}])
    return server_factory(extra_args=["--config", str(cfg)])


def script_transfer(fake):
    fake.script({"transcriptions": [{"text": "can I talk to a person please"}],
                 "chat": [{"tool_calls": [{"id": "call_1", "name": "transfer_to_human",
                                           "arguments": {"department": "sales",
                                                         "reason": "asked for a person"}}]},
                          {"content": "Sure, what else can I do for you?"}]})


def caller_wav(workdir, tone_from_s):
    speech = audio.make_speech_wav("can I talk to a person please", workdir / "ask.wav")
    tone = make_tone_wav(workdir / "tone1000.wav", 1000, 8)
    return place_wavs(workdir / "caller.wav", [(SPEAK_AT_S, speech), (tone_from_s, tone)],
                      total_s=60)


def wait_for(predicate, timeout, step=0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def test_transfer_to_human_bridges_the_caller(server_factory, workdir, fake):
    human = callee(workdir, make_tone_wav(workdir / "b.wav", 600, 10, pad_before_s=3,
                                          pad_after_s=30), user="9000", name="human")
    kam = Kamailio(workdir, routes={"9000": human.uri}).start()
    try:
        script_transfer(fake)
        srv = start(server_factory, workdir, fake, kam)
        phone = Baresip(workdir, caller_wav(workdir, 16.0), name="caller", max_seconds=60).start()
        try:
            assert phone.dial(f"sip:sales@{srv.sip_target}") is not None, phone.log()
            assert human.wait_log("Call established", 25), human.log()
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
        assert len(rec["legs"]) == 1 and rec["legs"][0]["answered_at"], rec["legs"]
        assert has_tone(phone.received_wav(), 600, min_seconds=2), "caller did not hear the human"
        assert has_tone(human.received_wav(), 1000, min_seconds=2), "human did not hear the caller"
    finally:
        kam.stop()


def test_busy_human_caller_is_told_and_agent_carries_on(server_factory, workdir, fake):
    human = callee(workdir, make_tone_wav(workdir / "b.wav", 600, 2, pad_after_s=30),
                   user="9000", name="human", busy=True)
    kam = Kamailio(workdir, routes={"9000": human.uri}).start()
    try:
        script_transfer(fake)
        srv = start(server_factory, workdir, fake, kam)
        phone = Baresip(workdir, caller_wav(workdir, 40.0), name="caller", max_seconds=60).start()
        try:
            assert phone.dial(f"sip:sales@{srv.sip_target}") is not None, phone.log()
            call_id = wait_for(lambda: (c := http_api.get_json(srv.http_base + "/api/calls"))
                               and c[-1]["id"], 10)

            def failed():
                rec = http_api.get_json(f"{srv.http_base}/api/calls/{call_id}")
                return rec if "transfer_failed" in [e["kind"] for e in rec["events"]] else None
            rec = wait_for(failed, 30)
            assert rec, http_api.get_json(f"{srv.http_base}/api/calls/{call_id}")
            time.sleep(4)  # the caller hears that nobody is there
            rec = http_api.get_json(f"{srv.http_base}/api/calls/{call_id}")
            assert rec["ended_at"] is None, rec  # the agent goes on with the caller
            leg = rec["legs"][0]
            assert leg["end_reason"] == "busy" and leg["sip_status"] == 486, leg
            phone.hangup()
        finally:
            phone.stop()
            human.stop()
    finally:
        kam.stop()
