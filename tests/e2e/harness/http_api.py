"""Tiny HTTP client for atende's API (urllib only: Debian's python3 has no requests)."""
import json
import time
import urllib.error
import urllib.request


# base URL -> the API token reads send there: a server with api_tokens wants one on every
# GET under /api (docs/security.md), so the harness reads as the console does. Server.start
# fills it from the server's config.
_read_tokens = {}


def use_token(base, token):
    """GETs to `base` carry `Authorization: Bearer token` from now on (None: none)."""
    if token:
        _read_tokens[base] = token
    else:
        _read_tokens.pop(base, None)


def _token_for(url):
    for base, token in _read_tokens.items():
        if url.startswith(base + "/"):
            return token
    return None


def get(url, timeout=5.0, token=None, anonymous=False):
    """(status, body bytes). HTTP error statuses are returned, not raised. Sends `token`, or
    the token registered for the URL's server (use_token) unless `anonymous`."""
    token = token or (None if anonymous else _token_for(url))
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def get_json(url, timeout=5.0):
    status, body = get(url, timeout)
    if status != 200:
        raise AssertionError(f"GET {url} -> {status}: {body[:500]!r}")
    return json.loads(body)


def get_text(url, timeout=5.0):
    status, body = get(url, timeout)
    if status != 200:
        raise AssertionError(f"GET {url} -> {status}: {body[:500]!r}")
    return body.decode("utf-8", "replace")


def wait_calls(base, predicate=None, timeout=5.0):
    """Polls GET {base}/api/calls until predicate(calls) holds (default: the newest call has
    ended); records are written asynchronously. Returns the last list either way, so the
    caller's assertion shows it."""
    predicate = predicate or (lambda calls: bool(calls) and bool(calls[0].get("ended_at")))
    deadline = time.monotonic() + timeout
    while True:
        calls = get_json(base + "/api/calls")
        if predicate(calls) or time.monotonic() > deadline:
            return calls
        time.sleep(0.2)


def wait_call_ended(base, call_id, timeout):
    """GET {base}/api/calls/{call_id} until it has ended; the record, or AssertionError with
    the last one seen."""
    deadline = time.monotonic() + timeout
    rec = None
    while time.monotonic() < deadline:
        rec = get_json(f"{base}/api/calls/{call_id}")
        if rec.get("ended_at"):
            return rec
        time.sleep(0.2)
    raise AssertionError(f"call {call_id} did not end in {timeout} s: {rec}")


def metric_value(metrics_text, name):
    """Sum of all samples of a Prometheus metric (any labels); None if absent."""
    total, seen = 0.0, False
    for line in metrics_text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        head = line.split("{", 1)[0].split(" ", 1)[0]
        if head == name:
            total += float(line.rsplit(" ", 1)[1])
            seen = True
    return total if seen else None


def speculative_counts(metrics_text):
    """{"<kind>_<outcome>": count} of atende_speculative_requests_total: the requests an
    answer started at a short pause sent (kind stt/llm/tts), used or wasted ("llm_wasted").
    Shared by tests/e2e/test_agent_turns.py and bench/voice_to_voice.py."""
    out = {}
    for line in metrics_text.splitlines():
        if line.startswith("atende_speculative_requests_total{"):
            labels = line.split("{", 1)[1].split("}", 1)[0]
            kv = {k: v.strip('"') for k, v in (p.split("=", 1) for p in labels.split(","))}
            out[kv["kind"] + "_" + kv["outcome"]] = int(float(line.rsplit(" ", 1)[1]))
    return out
