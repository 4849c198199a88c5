"""Early media: a flow dials with `early_media: true` and the callee (SIPp) sends 183 with
SDP and plays a 600 Hz tone before it answers; the caller (baresip) hears that tone while
the call is still ringing. Without early_media the same callee's tone is not heard."""
import time

import pytest

from harness import http_api
from harness.audio import has_tone, make_silence_wav, tone_seconds
from harness.baresip import Baresip
from harness.pcap import write_tone_pcap
from harness.sipp import SippUas, scenario_path

pytestmark = pytest.mark.atende_only


def early_audio_uas(workdir, pcap):
    """uas_early_media that plays `pcap` right after its 183, then answers 4 s later."""
    text = scenario_path("uas_early_media").read_text()
    marker = "  <recv request=\"CANCEL\" timeout=\"3000\" ontimeout=\"answer\"/>"
    assert marker in text
    text = text.replace(marker, f"  <nop><action><exec play_pcap_audio=\"{pcap}\"/></action></nop>\n"
                        + marker.replace('timeout="3000"', 'timeout="4000"'))
    path = workdir / "uas_early_audio.xml"
    path.write_text(text)
    return SippUas(path, workdir, echo=False).start()


def flows_dir(workdir, uri, early):
    d = workdir / "flows"
    d.mkdir(exist_ok=True)
    (d / "t.yaml").write_text(f"""
name: ringback
voice: {{name: en-us, rate: 165}}
start: call
steps:
  call:
    type: dial
    to: "{uri}"
    early_media: {"true" if early else "false"}
    next: done
    on_failure: done
  done:
    type: hangup
    text: Goodbye.
""")
    return d


@pytest.mark.parametrize("early", [True, False])
def test_caller_hears_the_callees_early_media(server_factory, workdir, early):
    pcap = write_tone_pcap(workdir / "tone600.pcap", 600, 3.0)
    uas = early_audio_uas(workdir, pcap)
    srv = server_factory(extra_args=["--flows-dir", str(flows_dir(workdir, uas.uri("1001"), early))])
    phone = Baresip(workdir, make_silence_wav(workdir / "mic.wav", 30), max_seconds=40).start()
    try:
        assert phone.dial(f"sip:ringback@{srv.sip_target}") is not None, phone.log()
        calls = http_api.wait_calls(srv.http_base, lambda c: c and c[0].get("ended_at"), 25)
        time.sleep(0.5)
    finally:
        phone.stop()
    uas.stop()
    rec = http_api.get_json(f"{srv.http_base}/api/calls/{calls[-1]['id']}")
    leg = rec["legs"][0]
    kinds = [e["kind"] for e in leg["events"]]
    heard = phone.received_wav()
    if early:
        assert "early_media" in kinds, leg["events"]
        assert has_tone(heard, 600, min_seconds=1.5), tone_seconds(heard, 600)
    else:
        assert "early_media" not in kinds, leg["events"]
        assert not has_tone(heard, 600, min_seconds=0.5), tone_seconds(heard, 600)
    assert leg["answered_at"], leg
