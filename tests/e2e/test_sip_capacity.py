"""--max-calls: with the limit reached, a new call is refused (503 or 486) while the calls
in progress go on; once they end, calls are accepted again."""
import time

import pytest

from harness.sipp import Sipp, run_sipp

pytestmark = pytest.mark.atende_only


def test_third_call_refused_at_max_calls_2(server_factory, workdir):
    server = server_factory(max_calls=2)
    holders = Sipp("uac_call", server.sip_target, workdir, calls=2, rate=10, limit=2,
                   duration_ms=6000, timeout_s=30, tag="holders").start()
    time.sleep(2.0)  # both held calls are answered well before this (no timing asserted)
    refused = run_sipp("uac_busy", server.sip_target, workdir, tag="third")
    held = holders.wait()
    assert refused.returncode == 0 and refused.successful == 1, refused.explain()
    assert held.returncode == 0 and held.successful == 2, held.explain()
    # Capacity comes back when the calls end.
    after = run_sipp("uac_call", server.sip_target, workdir, duration_ms=200, tag="after")
    assert after.returncode == 0 and after.successful == 1, after.explain()
