"""The REST API's write side against the real server: tokens, rates, allow-lists, bad
bodies (each refusal is a clear 4xx and nothing is dialled; every write is in the audit
log), and signed webhooks for a call atende places, checked by a receiver that verifies
each signature the way docs/api.md tells a receiver to."""
import hashlib
import hmac
import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness import http_api
from harness.api_client import post
from harness.config import write_config
from harness.sipp import SippUas

pytestmark = pytest.mark.atende_only

TOKEN = "writes-token-0123456789abcdef"
SECRET = "webhook-secret-for-tests"


def get_with_token(url, token):
    req = urllib.request.Request(url)
    req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def test_refusals_are_clear_and_nothing_is_dialled(server_factory, workdir):
    cfg = write_config(workdir, api_tokens=[
        {"name": "crm", "token": TOKEN, "allow": ["2xxx", "sip:*"], "rate_per_minute": 60,
         "burst": 5},
        {"name": "viewer", "token": "viewer-token-0123456789abc"}])
    srv = server_factory(extra_args=["--config", str(cfg)])
    base = srv.http_base
    body = {"to": "+5511999990000", "flow": "echo"}
    status, reply, headers = post(base, "/api/calls", body)
    assert status == 401 and "Bearer" in headers.get("WWW-Authenticate", ""), (status, reply)
    status, reply, _ = post(base, "/api/calls", body, "wrong-token-0123456789abcdef")
    assert status == 401, (status, reply)
    status, reply, _ = post(base, "/api/calls", body, TOKEN)
    assert status == 403 and "allow" in reply["error"], (status, reply)
    status, reply, _ = post(base, "/api/calls", {"to": "2302", "flow": "echo"},
                            "viewer-token-0123456789abc")
    assert status == 403, (status, reply)  # a token without an allow-list dials nothing
    status, reply, _ = post(base, "/api/calls", None, TOKEN, raw=b"{not json")
    assert status == 400 and "JSON" in reply["error"], (status, reply)
    status, reply, _ = post(base, "/api/calls", {"to": "2302", "flow": "echo", "colour": 1},
                            TOKEN)
    assert status == 400 and "colour" in reply["error"], (status, reply)
    status, reply, _ = post(base, "/api/calls", {"to": "2302", "flow": "nope"}, TOKEN)
    assert status == 400 and "nope" in reply["error"], (status, reply)
    # Over the rate (burst 5, some already spent): 429 with Retry-After.
    for _ in range(10):
        status, reply, headers = post(base, "/api/calls", {"to": "2302", "flow": "nope"}, TOKEN)
        if status == 429:
            break
    assert status == 429 and int(headers["Retry-After"]) >= 1, (status, reply)
    assert http_api.get_json(base + "/api/calls") == []  # nothing was dialled
    audit = get_with_token(base + "/api/audit?limit=100", "viewer-token-0123456789abc")
    statuses = sorted({a["status"] for a in audit})
    assert {400, 401, 403, 429} <= set(statuses), audit
    assert all(TOKEN not in json.dumps(a) for a in audit)


class Receiver(BaseHTTPRequestHandler):
    events = []
    bad = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ts = self.headers.get("X-Atende-Timestamp", "")
        signed = ts.encode() + b"." + body
        expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, self.headers.get("X-Atende-Signature", "")):
            Receiver.bad.append(body)
            self.send_response(401)
        else:
            Receiver.events.append(json.loads(body))
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhooks_for_a_placed_call_are_signed(server_factory, workdir):
    Receiver.events, Receiver.bad = [], []
    hook = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    uas = SippUas("uas_answer", workdir).start()
    try:
        cfg = write_config(workdir, api_tokens=[{"name": "crm", "token": TOKEN,
                                                 "allow": ["sip:*"]}],
                           webhooks=[{"url": f"http://127.0.0.1:{hook.server_port}/hook",
                                      "secret": SECRET}])
        srv = server_factory(extra_args=["--config", str(cfg)])
        status, reply, _ = post(srv.http_base, "/api/calls",
                                {"to": uas.uri("1001"), "flow": "time"}, TOKEN)
        assert status == 202, reply
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if any(e["type"] == "call.ended" for e in Receiver.events):
                break
            time.sleep(0.2)
        types = [e["type"] for e in Receiver.events]
        assert types[:2] == ["call.started", "call.answered"], types
        assert "call.ended" in types, types
        ended = [e for e in Receiver.events if e["type"] == "call.ended"][0]
        assert ended["call_id"] == reply["id"], ended
        assert ended["data"]["outcome"] == "answered" and ended["data"]["flow"] == "time", ended
        assert not Receiver.bad
    finally:
        hook.shutdown()
