"""HTTPS for the REST API is nginx in front (docs/security.md "HTTPS for the REST API"):
the shipped docs/examples/nginx-atende-https.conf, with only its ports, name and
certificate paths changed, runs under a real nginx in front of atende, and the API answers
over TLS (with the certificate checked) and not in plain HTTP on the TLS port."""
import os
import pathlib
import re
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from harness.ports import LOOPBACK, free_port
from harness.tls import self_signed

pytestmark = pytest.mark.atende_only

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "examples" / \
    "nginx-atende-https.conf"


def _site(text, tls_port, http_port, cert, key, api_port):
    text = text.replace("listen 443 ssl;", f"listen {LOOPBACK}:{tls_port} ssl;")
    text = text.replace("listen 80;", f"listen {LOOPBACK}:{http_port};")
    text = re.sub(r"\n\s*listen \[::\]:\d+( ssl)?;", "", text)
    text = text.replace("/etc/atende/tls/api.crt", str(cert))
    text = text.replace("/etc/atende/tls/api.key", str(key))
    text = text.replace("http://127.0.0.1:8080", f"http://127.0.0.1:{api_port}")
    return text


def test_api_over_https_through_the_documented_nginx(server, workdir):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(nginx, os.X_OK):
        pytest.skip("nginx is not installed (scripts/install-deps installs nginx-light)")
    cert, key, _ = self_signed(workdir / "api-tls", "api")
    tls_port, http_port = free_port(), free_port()
    prefix = workdir / "nginx"
    prefix.mkdir()
    site = _site(EXAMPLE.read_text(), tls_port, http_port, cert, key, server.http_port)
    assert f"{LOOPBACK}:{tls_port} ssl" in site and str(server.http_port) in site, site
    (prefix / "site.conf").write_text(site)
    temp = "".join(f"    {d}_temp_path {prefix}/{d};\n"
                   for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (prefix / "nginx.conf").write_text(
        f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\nworker_processes 1;\n"
        f"events {{ worker_connections 64; }}\n"
        f"http {{\n    access_log {prefix}/access.log;\n{temp}"
        f"    include {prefix}/site.conf;\n}}\n")
    check = subprocess.run([nginx, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                             "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                            stderr=open(prefix / "stderr.log", "wb"))
    try:
        ctx = ssl.create_default_context(cafile=str(cert))
        url = f"https://{LOOPBACK}:{tls_port}/healthz"
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(url, context=ctx, timeout=3) as r:
                    status, body = r.status, r.read()
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert status == 200, (status, body)
        # The API's own JSON came through the proxy.
        with urllib.request.urlopen(f"https://{LOOPBACK}:{tls_port}/api/calls", context=ctx,
                                    timeout=3) as r:
            assert r.status == 200 and r.read().lstrip().startswith(b"[")
        # Without the CA the certificate is refused: it is really TLS, checked.
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(url, context=ssl.create_default_context(), timeout=3)
        # Plain HTTP is only a redirect to HTTPS.
        req = urllib.request.Request(f"http://{LOOPBACK}:{http_port}/healthz")
        opener = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(req, timeout=3)
        assert redirect.value.code == 301
        assert redirect.value.headers["Location"].startswith("https://")
    finally:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
