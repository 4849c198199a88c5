#!/usr/bin/env python3
"""A webhook receiver that checks atende's signatures the way docs/api.md ("Webhooks")
tells receivers to: verify() below is the documented snippet, verbatim.

Used by test_hooks_sender.cpp: prints "PORT <n>" once listening, then one line per request
"<status> <X-Atende-Event> <X-Atende-Delivery> <reason>", and exits after --requests
requests (or --timeout seconds).

  hooks_receiver.py --secret S [--fail-first] [--requests N] [--timeout SECONDS]
"""
import argparse
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

# --- the snippet from docs/api.md -------------------------------------------------------
import hashlib, hmac, time

def verify(secret: bytes, headers, body: bytes, tolerance: int = 300) -> bool:
    ts = headers.get("X-Atende-Timestamp", "")
    sig = headers.get("X-Atende-Signature", "")
    if not ts.isdigit() or abs(time.time() - int(ts)) > tolerance:
        return False  # missing, or too old: a replay
    signed = ts.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, sig)
# -----------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secret", required=True)
    ap.add_argument("--fail-first", action="store_true")
    ap.add_argument("--requests", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=30)
    args = ap.parse_args()
    seen = {"n": 0}
    done = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not verify(args.secret.encode(), self.headers, body):
                status, reason = 401, "bad-signature"
            elif args.fail_first and seen["n"] == 0:
                status, reason = 500, "failing-first"
            else:
                status, reason = 200, "verified"
            seen["n"] += 1
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            print(status, self.headers.get("X-Atende-Event"),
                  self.headers.get("X-Atende-Delivery"), reason, flush=True)
            if seen["n"] >= args.requests:
                done.set()

        def log_message(self, *a):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    print("PORT", server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    done.wait(args.timeout)
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
