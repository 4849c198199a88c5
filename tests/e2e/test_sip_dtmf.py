"""RFC 4733 digits from SIPp (its bundled dtmf_2833_<d>.pcap files, payload type 101) reach
the IVR and are recorded on the call."""

import pytest

from harness import http_api
from harness.sipp import dtmf_actions, run_sipp

pytestmark = pytest.mark.atende_only


def test_rfc4733_digit_is_recorded_on_the_call(server, workdir):
    # Lead time lets the menu start; the pcaps go to the port in the server's answer SDP.
    result = run_sipp("uac_dtmf", server.sip_target, workdir, service="ivr",
                      duration_ms=1500,
                      substitutions={"LEAD_MS": 1000, "DTMF_PCAPS": dtmf_actions("2")})
    assert result.returncode == 0 and result.successful == 1, result.explain()
    calls = http_api.wait_calls(server.http_base)
    assert len(calls) == 1, calls
    assert calls[0]["flow"] == "ivr", calls[0]
    assert "2" in (calls[0]["digits"] or ""), calls[0]
