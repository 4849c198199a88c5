"""Operations on the real binary: the OpenAPI document describes what the live server
answers (responses validated against its schemas), every setting can come from the
environment with flags > environment > config file, and `atende db backup` / `db migrate`
work on the database of a server that is running."""
import json
import os
import re
import socket
import sqlite3
import subprocess
import urllib.error
import urllib.request

import jsonschema
import pytest

from harness import http_api
from harness.config import write_config
from harness.ports import LOOPBACK, free_port
from harness.server import Server
from harness.sip_raw import RawCall, SipSocket, simple_sdp

pytestmark = pytest.mark.atende_only

BIN = os.environ.get("ATENDE_BIN")
TOKEN = "ops-token-0123456789abcdef"


def _request(base, path, *, method="GET", token=None, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def _one_call(srv, user="echo", while_up=None):
    with SipSocket(srv.sip_port) as sock:
        call = RawCall(sock, user, sdp=simple_sdp(sock.port + 2))
        assert call.invite() == 200
        call.ack()
        if while_up:
            while_up()
        call.bye()


class Document:
    """The OpenAPI document and a validator for one response of one operation."""

    def __init__(self, doc):
        self.doc = doc
        self.resolver = jsonschema.RefResolver.from_schema(doc)

    def check(self, doc_path, method, status, content_type, body):
        op = self.doc["paths"][doc_path][method.lower()]
        responses = op["responses"]
        assert str(status) in responses, f"{method} {doc_path}: {status} is not documented"
        response = responses[str(status)]
        if "$ref" in response:
            response = self.resolver.resolve(response["$ref"])[1]
        media = content_type.split(";")[0].strip()
        content = response.get("content", {})
        assert media in content, f"{method} {doc_path} {status}: {media} not documented"
        if media != "application/json":
            return
        schema = content[media]["schema"]
        jsonschema.Draft202012Validator(schema, resolver=self.resolver).validate(json.loads(body))


def test_live_responses_match_the_openapi_document(server_factory, workdir):
    cfg = write_config(workdir, api_tokens=[{"name": "ops", "token": TOKEN, "allow": ["2xxx"]}],
                       trunks=[{"name": "pbx", "host": "127.0.0.1", "port": free_port()}])
    srv = server_factory(extra_args=["--config", str(cfg)])
    base = srv.http_base
    status, ctype, raw = _request(base, "/api/openapi.json")
    assert status == 200 and ctype.startswith("application/json")
    doc = json.loads(raw)
    assert doc["openapi"].startswith("3.")
    jsonschema.Draft202012Validator.check_schema(doc["components"]["schemas"]["CallDetail"])
    api = Document(doc)

    live = []

    def check_live():  # while the call is up: /api/live lists it with its leg
        status, ctype, raw = _request(base, "/api/live", token=TOKEN)
        api.check("/api/live", "GET", status, ctype, raw)
        live.extend(json.loads(raw))

    _one_call(srv, while_up=check_live)
    assert live and live[0]["legs"], live
    status, ctype, raw = _request(base, "/api/trunks", token=TOKEN)
    api.check("/api/trunks", "GET", status, ctype, raw)
    assert [t["name"] for t in json.loads(raw)] == ["pbx"]
    calls = http_api.wait_calls(base, lambda cs: any(c["ended_at"] for c in cs), timeout=10)
    call_id = calls[0]["id"]
    # An audit row to list: a refused dial (403, outside the allow-list).
    status, _, _ = _request(base, "/api/calls", method="POST", token=TOKEN,
                            body={"to": "+5511999990000", "flow": "echo"})
    assert status == 403

    cases = [
        ("/healthz", "/healthz", "GET", None, None),
        ("/readyz", "/readyz", "GET", None, None),
        ("/metrics", "/metrics", "GET", None, None),
        # With api_tokens configured, reads need a token too (transcripts are personal data).
        ("/api/calls", "/api/calls", "GET", TOKEN, None),
        ("/api/calls", "/api/calls", "GET", None, None),
        ("/api/calls?limit=0", "/api/calls", "GET", TOKEN, None),
        ("/api/calls?flow=echo&direction=sideways", "/api/calls", "GET", TOKEN, None),
        (f"/api/calls?before={call_id}&flow=echo", "/api/calls", "GET", TOKEN, None),
        (f"/api/calls/{call_id}", "/api/calls/{id}", "GET", TOKEN, None),
        ("/api/calls/no-such-call", "/api/calls/{id}", "GET", TOKEN, None),
        ("/api/live", "/api/live", "GET", TOKEN, None),
        ("/api/trunks", "/api/trunks", "GET", TOKEN, None),
        ("/api/audit", "/api/audit", "GET", TOKEN, None),
        ("/api/audit", "/api/audit", "GET", None, None),
        ("/api/calls", "/api/calls", "POST", None, {"to": "2000", "flow": "echo"}),
        ("/api/calls", "/api/calls", "POST", TOKEN, {"to": "2000", "flow": "nope"}),
        ("/api/calls/no-such-call/hangup", "/api/calls/{id}/hangup", "POST", TOKEN, None),
        ("/api/audiosocket/sessions", "/api/audiosocket/sessions", "POST", TOKEN,
         {"uuid": "not-a-uuid", "flow": "echo"}),
    ]
    statuses = {}
    for target, doc_path, method, token, body in cases:
        status, ctype, raw = _request(base, target, method=method, token=token, body=body)
        api.check(doc_path, method, status, ctype, raw)
        statuses[(method, target, token is not None)] = status
    # The cases covered what they meant to: a real call, errors, an authorised read.
    assert statuses[("GET", f"/api/calls/{call_id}", True)] == 200
    assert statuses[("GET", "/api/calls", False)] == 401
    assert statuses[("GET", "/api/calls?flow=echo&direction=sideways", True)] == 400
    assert statuses[("GET", "/api/audit", True)] == 200
    assert statuses[("GET", "/api/audit", False)] == 401
    assert statuses[("GET", "/api/calls/no-such-call", True)] == 404


class EnvServer(Server):
    """A server whose addresses come from the environment, not from the harness's flags."""

    def __init__(self, *args, config, flags=(), **kwargs):
        super().__init__("atende", *args, **kwargs)
        self.config = config
        self.flags = list(flags)

    def command(self):
        return [self.binary, "serve", *self.flags]


def test_settings_from_the_environment_with_precedence(tmp_path, monkeypatch):
    file_http_port = free_port()  # the file's address: the environment must win over it
    cfg = tmp_path / "atende.yaml"
    cfg.write_text(f"http_listen: {LOOPBACK}:{file_http_port}\nmax_calls: 3\n"
                   "drain_seconds: 1\n")
    srv = EnvServer(BIN, tmp_path / "server", config=cfg, flags=["--max-calls", "6"])
    source = os.environ.get("ATENDE_SOURCE_DIR")
    env = {
        "ATENDE_CONFIG": str(cfg),
        "ATENDE_SIP_LISTEN": srv.sip_target,
        "ATENDE_HTTP_LISTEN": f"{LOOPBACK}:{srv.http_port}",
        "ATENDE_RTP_PORTS": f"{srv.rtp_range[0]}-{srv.rtp_range[1]}",
        "ATENDE_DATA_DIR": str(srv.data_dir),
        "ATENDE_MAX_CALLS": "4",  # env beats the file's 3; the flag's 6 beats both
        "ATENDE_AUDIOSOCKET_LISTEN": "off",
        "ATENDE_LOG_FORMAT": "text",
    }
    if source:
        env["ATENDE_FLOWS_DIR"] = os.path.join(source, "flows")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    srv.start()
    try:
        _one_call(srv)
        log = srv.stderr_text() + srv.stdout_path.read_text(errors="replace")
        ready = [line for line in log.splitlines() if "atende: ready" in line]
        assert ready, log
        assert "max 6 calls" in ready[0], ready[0]  # flag > env > file
        assert f"rtp {srv.rtp_range[0]}-{srv.rtp_range[1]}" in ready[0], ready[0]
        names = [line for line in log.splitlines() if "config: from the environment" in line]
        assert names and "ATENDE_HTTP_LISTEN" in names[0] and "ATENDE_MAX_CALLS" in names[0]
        assert env["ATENDE_HTTP_LISTEN"] not in names[0]  # names only, never values
        assert (srv.data_dir / "atende.db").exists()  # ATENDE_DATA_DIR
        # The harness reached it on ATENDE_HTTP_LISTEN; the file's address stays closed.
        assert not _listening(file_http_port), "the file's http_listen won over the environment"
    finally:
        assert srv.stop() == 0, srv.log_tail()

    # A bad value names the variable and exits 2, as a bad key in the file does.
    monkeypatch.setenv("ATENDE_MAX_CALLS", "lots")
    r = subprocess.run([BIN, "serve"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 2 and "ATENDE_MAX_CALLS" in r.stderr, r.stderr


def _listening(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((LOOPBACK, port)) == 0


def test_help_documents_the_environment():
    r = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0
    assert "ATENDE_SIP_LISTEN" in r.stdout and "flags > environment > config file" in r.stdout


def test_db_backup_and_migrate_while_serving(server, tmp_path):
    _one_call(server)
    http_api.wait_calls(server.http_base, lambda cs: any(c["ended_at"] for c in cs), timeout=10)
    dest = tmp_path / "backup.db"
    r = subprocess.run([BIN, "db", "backup", str(dest), "--data-dir", str(server.data_dir)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert str(dest) in r.stdout and "schema version" in r.stdout, r.stdout
    with sqlite3.connect(dest) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM calls WHERE ended_at IS NOT NULL").fetchone()[0] >= 1
    # Never over an existing file.
    r = subprocess.run([BIN, "db", "backup", str(dest), "--data-dir", str(server.data_dir)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "exists" in r.stderr, r.stderr

    for args in (["--dry-run"], []):
        r = subprocess.run([BIN, "db", "migrate", *args, "--data-dir", str(server.data_dir)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "up to date" in r.stdout, (r.stdout, r.stderr)
    r = subprocess.run([BIN, "db", "migrate", "--data-dir", str(tmp_path / "nowhere")],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 1 and "no call database" in r.stderr, r.stderr
    server.assert_healthy()


def test_db_migrate_upgrades_an_old_database(tmp_path):
    # A version-2 database as an old release left it (its schema from `sqlite3` here, the
    # statements of migrations 1 and 2), with a call in it.
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "atende.db") as db:
        db.executescript("""
            CREATE TABLE schema_version (version INTEGER NOT NULL);
            CREATE TABLE calls (id TEXT PRIMARY KEY, direction TEXT NOT NULL,
              from_uri TEXT NOT NULL, to_uri TEXT NOT NULL, leg_kind TEXT NOT NULL,
              flow TEXT NOT NULL, started_at INTEGER NOT NULL, answered_at INTEGER,
              ended_at INTEGER, end_reason TEXT, sip_status INTEGER,
              digits TEXT NOT NULL DEFAULT '');
            CREATE INDEX calls_started_at ON calls(started_at);
            CREATE TABLE call_events (id INTEGER PRIMARY KEY AUTOINCREMENT,
              call_id TEXT NOT NULL, at INTEGER NOT NULL, kind TEXT NOT NULL,
              detail TEXT NOT NULL DEFAULT '');
            CREATE INDEX call_events_call ON call_events(call_id, at, id);
            CREATE TABLE call_turns (call_id TEXT NOT NULL, idx INTEGER NOT NULL,
              user_text TEXT NOT NULL DEFAULT '', agent_text TEXT NOT NULL DEFAULT '',
              interrupted INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',
              speech_end_ms INTEGER, stt_final_ms INTEGER, first_token_ms INTEGER,
              first_audio_ms INTEGER, first_play_ms INTEGER, PRIMARY KEY (call_id, idx));
            INSERT INTO schema_version VALUES (1), (2);
            INSERT INTO calls VALUES ('old1', 'inbound', 'sip:a@x', 'sip:b@y', 'sip', 'echo',
              1700000000000, 1700000001000, 1700000009000, 'caller hangup', 200, '1');
        """)
    r = subprocess.run([BIN, "db", "migrate", "--dry-run", "--data-dir", str(data)],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0 and "schema version 2" in r.stdout and "pending" in r.stdout, r.stdout
    assert re.search(r"^\s+3: ", r.stdout, re.M), r.stdout
    r = subprocess.run([BIN, "db", "migrate"], capture_output=True, text=True, timeout=20,
                       env={**os.environ, "ATENDE_DATA_DIR": str(data)})
    assert r.returncode == 0 and "-> " in r.stdout, (r.stdout, r.stderr)
    r = subprocess.run([BIN, "calls", "--data-dir", str(data)], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode == 0 and "old1" in r.stdout, (r.stdout, r.stderr)


def test_every_config_key_is_documented_with_its_variable():
    # The keys the file parser accepts (src/core/config.cpp) against docs/operations.md's
    # table, so a new key cannot go undocumented.
    source = os.environ.get("ATENDE_SOURCE_DIR") or os.path.join(os.path.dirname(__file__),
                                                                 "..", "..")
    with open(os.path.join(source, "src/core/config.cpp")) as f:
        keys = set(re.findall(r'key == "([a-z_]+)"', f.read()))
    with open(os.path.join(source, "docs/operations.md")) as f:
        docs = f.read()
    assert len(keys) > 30
    for key in sorted(keys):
        assert f"`ATENDE_{key.upper()}`" in docs, f"{key}: not in docs/operations.md"
