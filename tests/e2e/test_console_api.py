"""The console's API (coord/console-contract.md, docs/api.md) against the real server with
real SIP calls (SIPp): reads need the token once api_tokens exist, GET /api/calls filters
and keyset paging, GET /api/events streams a snapshot and the calls SIPp places, flows and
personas are listed, validated and reloaded (POST /api/reload and SIGHUP), and the web
console's files are served from --web-root."""

import json
import os
import pathlib
import queue
import shutil
import signal
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from harness import http_api
from harness.config import write_config
from harness.sipp import Sipp, run_sipp

pytestmark = pytest.mark.atende_only

TOKEN = "console-token-0123456789abcdef"


def _server(server_factory, workdir, *extra, **sections):
    cfg = write_config(workdir, name="console.yaml",
                       api_tokens=[{"name": "console", "token": TOKEN, "allow": ["2xxx"]}],
                       **sections)
    return server_factory(extra_args=["--config", str(cfg), *extra])


def _request(base, path, *, method="GET", token=TOKEN, body=None, content_type=None):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(base + path, method=method, data=data)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def _json(base, path, **kwargs):
    status, _, body = _request(base, path, **kwargs)
    return status, json.loads(body) if body else None


def _ids(calls):
    return [c["id"] for c in calls]


def test_reads_need_the_token_and_calls_page_and_filter(server_factory, workdir):
    srv = _server(server_factory, workdir)
    base = srv.http_base
    result = run_sipp("uac_call", srv.sip_target, workdir, calls=5, rate=10, limit=5,
                      duration_ms=200)
    assert result.returncode == 0 and result.successful == 5, result.explain()
    calls = http_api.wait_calls(base, lambda cs: len(cs) == 5 and all(c["ended_at"] for c in cs),
                                timeout=15)
    assert len(calls) == 5, calls

    # Reads need the token (transcripts are personal data); the OpenAPI document does not.
    for path in ("/api/calls", f"/api/calls/{calls[0]['id']}", "/api/live", "/api/flows",
                 "/api/personas", "/api/trunks", "/api/events"):
        status, headers, _ = _request(base, path, token=None)
        assert status == 401 and headers.get("WWW-Authenticate") == "Bearer", path
    assert _request(base, "/api/openapi.json", token=None)[0] == 200

    # Keyset paging: every call once, newest first, pages of 2.
    seen, before = [], None
    for _ in range(5):
        status, page = _json(base, "/api/calls?limit=2" + (f"&before={before}" if before else ""))
        assert status == 200
        seen += _ids(page)
        if len(page) < 2:
            break
        before = page[-1]["id"]
    assert seen == _ids(calls), (seen, _ids(calls))

    # Filters.
    assert _ids(_json(base, "/api/calls?flow=echo")[1]) == _ids(calls)
    assert _json(base, "/api/calls?flow=ivr")[1] == []
    assert _ids(_json(base, "/api/calls?direction=inbound")[1]) == _ids(calls)
    assert _json(base, "/api/calls?direction=outbound")[1] == []
    outcome = calls[0]["end_reason"]
    assert calls[0]["id"] in _ids(_json(base, f"/api/calls?outcome={outcome.replace(' ', '+')}")[1])
    assert _json(base, "/api/calls?number=%2B5511")[1] == []
    started = calls[2]["started_at"]
    since = _json(base, f"/api/calls?since={started}")[1]
    assert calls[2]["id"] in _ids(since) and calls[4]["id"] not in _ids(since)
    until = _json(base, f"/api/calls?until={started}")[1]
    assert calls[2]["id"] not in _ids(until) and calls[4]["id"] in _ids(until)

    # Bad parameters: 400 naming the parameter.
    for query, name in (("limit=0", "limit"), ("before=nope", "before"), ("since=soon", "since"),
                        ("direction=up", "direction"), ("number=abc", "number"),
                        ("colour=red", "colour")):
        status, body = _json(base, "/api/calls?" + query)
        assert status == 400 and f"'{name}'" in body["error"], (query, body)


class EventStream:
    """GET /api/events over a plain socket (as a browser's fetch() reads it): each `data:`
    line's JSON lands in .events; comments (pings) are skipped."""

    def __init__(self, base, token=TOKEN):
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        self.sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: {host}\r\n"
                          f"Authorization: Bearer {token}\r\n\r\n".encode())
        self.file = self.sock.makefile("rb")
        self.status_line = self.file.readline().decode()
        self.headers = {}
        while (line := self.file.readline().decode().strip()):
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.events = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            for raw in self.file:
                line = raw.decode().rstrip("\n")
                if line.startswith("data: "):
                    self.events.put(json.loads(line[6:]))
        except (OSError, ValueError):
            pass
        self.events.put(None)

    def next(self, timeout=30):
        return self.events.get(timeout=timeout)

    def until(self, predicate, timeout=30):
        """Events until one satisfies predicate (returned with the ones before it)."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            e = self.next(timeout=max(0.1, deadline - time.monotonic()))
            assert e is not None, f"stream closed; saw {seen}"
            seen.append(e)
            if predicate(e):
                return seen
        raise AssertionError(f"no matching event in {timeout} s; saw {seen}")

    def close(self):
        self.sock.close()


def test_events_stream_a_snapshot_then_the_calls(server_factory, workdir):
    srv = _server(server_factory, workdir)
    base = srv.http_base
    stream = EventStream(base)
    try:
        assert " 200 " in stream.status_line, stream.status_line
        assert stream.headers["content-type"] == "text/event-stream"
        first = stream.next()
        assert first == {"type": "snapshot", "calls": []}, first
        # The metric counts the client (the hub adopts it before it sends the snapshot).
        metrics = http_api.get_text(base + "/metrics")
        assert http_api.metric_value(metrics, "atende_sse_clients") == 1, metrics

        sipp = Sipp("uac_call", srv.sip_target, workdir, duration_ms=1500).start()
        started = stream.until(lambda e: e["type"] == "call.started")[-1]
        call_id = started["call"]["id"]
        assert started["call"]["flow"] == "echo"
        assert started["call"]["legs"][0]["direction"] == "inbound"
        # A second client that connects now gets the call in its snapshot.
        late = EventStream(base)
        try:
            snap = late.next()
            assert snap["type"] == "snapshot"
            assert call_id in _ids(snap["calls"]), snap
        finally:
            late.close()
        ended = stream.until(lambda e: e["type"] == "call.ended" and e["call"]["id"] == call_id)
        assert "call.answered" in [e["type"] for e in ended], ended
        assert ended[-1]["call"]["state"] == "ended"
        result = sipp.wait()
        assert result.returncode == 0 and result.successful == 1, result.explain()
    finally:
        stream.close()
    # Wrong token: refused before any stream starts.
    status, _, _ = _request(base, "/api/events", token="wrong-token-0123456789abcdef")
    assert status == 401


FLOW = """# A short test flow: says one thing and hangs up.
name: {name}
voice: {{name: en-us}}
start: hello
steps:
  hello:
    type: say
    text: "Hello."
    next: goodbye
  goodbye:
    type: hangup
    text: "Goodbye."
"""


def test_flows_personas_validate_and_reload(server_factory, workdir, tmp_path):
    flows = tmp_path / "flows"
    source = pathlib.Path(os.environ.get("ATENDE_SOURCE_DIR", pathlib.Path(__file__).parents[2]))
    shutil.copytree(source / "flows", flows)
    srv = _server(server_factory, workdir, "--flows-dir", str(flows))
    base = srv.http_base

    status, listed = _json(base, "/api/flows")
    assert status == 200
    by_name = {f["name"]: f for f in listed}
    assert by_name["echo"]["type"] == "flow" and by_name["echo"]["file"] == "echo.yaml"
    assert "Echo test" in by_name["echo"]["description"], by_name["echo"]
    status, echo = _json(base, "/api/flows/echo")
    assert status == 200 and "name: echo" in echo["yaml"]
    assert _json(base, "/api/flows/nope")[0] == 404
    status, personas = _json(base, "/api/personas")
    assert status == 200 and personas, personas
    status, one = _json(base, f"/api/personas/{personas[0]['name']}")
    assert status == 200 and one["type"] == "persona" and one["yaml"]

    # Validate: good YAML, as text or JSON; a broken one names its line. Nothing is written.
    good = FLOW.format(name="hello_test")
    status, body = _json(base, "/api/flows/validate", method="POST", body=good,
                         content_type="text/yaml")
    assert (status, body) == (200, {"ok": True, "flows": ["hello_test"]}), body
    status, body = _json(base, "/api/flows/validate", method="POST",
                         body=json.dumps({"yaml": good}), content_type="application/json")
    assert status == 200 and body["ok"], body
    broken = good.replace("next: goodbye", "next: nowhere")
    status, body = _json(base, "/api/flows/validate", method="POST", body=broken,
                         content_type="text/yaml")
    assert status == 422 and body["ok"] is False, body
    assert "nowhere" in body["errors"][0]["message"] and body["errors"][0]["line"], body
    assert _json(base, "/api/flows/validate", method="POST", body=good,
                 content_type="image/png")[0] == 415
    assert not (flows / "posted.yaml").exists()

    # Reload picks up a new flow; a broken file changes nothing and says why.
    (flows / "hello_test.yaml").write_text(good)
    status, body = _json(base, "/api/reload", method="POST")
    assert status == 200 and body["flows"] == len(listed) + 1, body
    assert "hello_test" in [f["name"] for f in _json(base, "/api/flows")[1]]
    (flows / "zz_broken.yaml").write_text(broken.replace("hello_test", "zz_broken"))
    status, body = _json(base, "/api/reload", method="POST")
    assert status == 422 and "zz_broken" in body["error"], body
    assert "hello_test" in [f["name"] for f in _json(base, "/api/flows")[1]]
    # The reloaded flow answers calls.
    result = run_sipp("uac_call", srv.sip_target, workdir, service="hello_test",
                      duration_ms=200)
    assert result.returncode == 0 and result.successful == 1, result.explain()

    # SIGHUP does the same: the broken file gone and a new flow added, it is listed.
    (flows / "zz_broken.yaml").unlink()
    (flows / "hello_again.yaml").write_text(FLOW.format(name="hello_again"))
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    names = []
    while time.monotonic() < deadline and "hello_again" not in names:
        names = [f["name"] for f in _json(base, "/api/flows")[1]]
        time.sleep(0.2)
    assert "hello_again" in names, names

    # Writes are audited.
    status, audit = _json(base, "/api/audit?limit=20")
    paths = [(a["method"], a["path"], a["status"]) for a in audit]
    assert ("POST", "/api/reload", 422) in paths and ("POST", "/api/reload", 200) in paths, paths
    assert ("POST", "/api/flows/validate", 422) in paths, paths


def test_transfer_route_checks_the_allow_list(server_factory, workdir):
    srv = _server(server_factory, workdir)
    base = srv.http_base
    status, body = _json(base, "/api/calls/nope/transfer", method="POST",
                         body=json.dumps({"to": "2001"}), content_type="application/json")
    assert status == 404, body
    status, body = _json(base, "/api/calls/nope/transfer", method="POST",
                         body=json.dumps({"to": "+5511999990000"}),
                         content_type="application/json")
    assert status == 403 and "allow-list" in body["error"], body
    status, body = _json(base, "/api/calls/nope/transfer", method="POST",
                         body=json.dumps({"where": "2001"}), content_type="application/json")
    assert status == 400 and "where" in body["error"], body


def test_the_console_files_are_served_from_web_root(server_factory, workdir, tmp_path):
    web = tmp_path / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<!doctype html><title>atende</title>")
    (web / "assets" / "app-1234.js").write_text("console.log('hi')")
    (web / ".secret").write_text("no")
    outside = tmp_path / "outside.txt"
    outside.write_text("outside")
    (web / "link.txt").symlink_to(outside)
    srv = _server(server_factory, workdir, "--web-root", str(web))
    base = srv.http_base

    status, headers, body = _request(base, "/", token=None)
    assert status == 200 and b"<title>atende</title>" in body
    assert headers["Content-Type"].startswith("text/html") and headers["Cache-Control"] == "no-cache"
    status, headers, body = _request(base, "/assets/app-1234.js", token=None)
    assert status == 200 and body == b"console.log('hi')"
    assert headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in headers["Cache-Control"]
    # Client-side routes get the app; missing files with an extension do not.
    status, headers, body = _request(base, "/calls/c123", token=None)
    assert status == 200 and b"<title>atende</title>" in body
    assert _request(base, "/assets/missing.js", token=None)[0] == 404
    # Never outside the root, never hidden files.
    for path in ("/../outside.txt", "/%2e%2e/outside.txt", "/assets/..%2f..%2foutside.txt",
                 "/.secret", "/link.txt"):
        status, _, body = _request(base, path, token=None)
        assert status in (400, 404) and b"outside" not in body and body != b"no", path
    # The API and probes are untouched.
    assert _request(base, "/healthz", token=None)[0] == 200
    assert _request(base, "/api/nothing")[0] == 404


def test_without_a_built_console_the_root_says_how_to_build_it(server_factory, workdir,
                                                               tmp_path):
    srv = _server(server_factory, workdir, "--web-root", str(tmp_path / "nothing"))
    status, _, body = _request(srv.http_base, "/", token=None)
    assert status == 404 and b"make web" in body
