"""POSTs to atende's REST API with a Bearer token; returns (status, json, headers)."""
import json
import urllib.error
import urllib.request


def post(base, path, body, token=None, *, raw=None, content_type="application/json",
         timeout=5.0):
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method="POST")
    req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read().decode()
            return r.status, json.loads(text) if text else None, dict(r.headers)
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
        return e.code, parsed, dict(e.headers)
