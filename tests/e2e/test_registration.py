"""atende registers a trunk account with a real registrar (Kamailio, digest auth), keeps it
registered across the registrar's restart, reports a wrong password without hammering, and
takes calls to that account into the trunk's flow."""
import time

import pytest

from harness import http_api
from harness.config import trunk, write_config
from harness.kamailio import Kamailio
from harness.sipp import run_sipp

pytestmark = pytest.mark.atende_only


def trunks(server):
    return {t["name"]: t for t in http_api.get_json(server.http_base + "/api/trunks")}


def wait_trunk_state(server, name, state, timeout):
    deadline = time.monotonic() + timeout
    t = None
    while time.monotonic() < deadline:
        t = trunks(server).get(name)
        if t and t["state"] == state:
            return t
        time.sleep(0.2)
    raise AssertionError(f"trunk {name} not {state} after {timeout} s: {t}")


def test_registers_with_digest_and_survives_registrar_restart(server_factory, workdir):
    kam = Kamailio(workdir, users={"atende": "s3cret-pass"}).start()
    try:
        cfg = write_config(workdir, trunks=[trunk("pbx", kam, user="atende",
                                                  password="s3cret-pass", register=True,
                                                  register_expires=30, inbound="echo")])
        srv = server_factory(extra_args=["--config", str(cfg)])
        assert kam.wait_registered("atende", 10), kam.log_tail()
        t = wait_trunk_state(srv, "pbx", "registered", 10)
        assert t["last_status"] == 200, t
        metrics = http_api.get_text(srv.http_base + "/metrics")
        assert http_api.metric_value(metrics, "atende_trunks_registered") == 1

        # A call to the registered account, through the registrar, reaches the trunk's flow.
        r = run_sipp("uac_call", kam.target, workdir, service="atende", calls=1,
                     duration_ms=1000)
        assert r.returncode == 0, r.explain()
        calls = http_api.wait_calls(srv.http_base, lambda c: c and c[0].get("ended_at"), 10)
        assert calls[0]["flow"] == "echo", calls

        # The registrar forgets everything on restart; atende's refresh puts it back.
        kam.restart()
        assert not kam.registered("atende")
        assert kam.wait_registered("atende", 30), kam.log_tail()
    finally:
        kam.stop()


def test_wrong_password_is_reported_and_not_retried_in_a_loop(server_factory, workdir):
    kam = Kamailio(workdir, users={"atende": "right-password"}).start()
    try:
        cfg = write_config(workdir, trunks=[trunk("pbx", kam, user="atende",
                                                  password="wrong-password", register=True)])
        srv = server_factory(extra_args=["--config", str(cfg)])
        t = wait_trunk_state(srv, "pbx", "failed", 10)
        assert "password" in t["last_reason"], t
        assert t["last_status"] in (401, 403), t
        time.sleep(3)
        # One attempt (a challenge, then our answer refused), then a backoff of seconds.
        registers = kam.log().count("REGISTER")
        assert not kam.registered("atende")
        log = srv.stderr_text()
        assert log.count("registration pbx failed") == 1, log
        assert "retries in 5 s" in log, log
        assert registers < 20, registers
    finally:
        kam.stop()
