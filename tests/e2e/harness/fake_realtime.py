"""tests/fake_openai/fake_realtime.py (a fake OpenAI Realtime server) as a process for one
test: started on a free port, scripted and asked what it received over HTTP, stopped."""
import json
import pathlib
import subprocess
import sys
import urllib.request

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "fake_openai" / "fake_realtime.py"


class FakeRealtime:
    def __init__(self, tls_cert=None, tls_key=None):
        """With tls_cert and tls_key (PEM paths) it also serves wss:// (wss_url): the
        control endpoints stay on plain HTTP (base)."""
        args = [sys.executable, str(SCRIPT), "--port", "0", "--exit-on-stdin-eof"]
        if tls_cert:
            args += ["--tls-cert", str(tls_cert), "--tls-key", str(tls_key)]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("PORT "), line
        self.port = int(line.split()[1])
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/v1/realtime?model=gpt-realtime"
        if tls_cert:
            line = self.proc.stdout.readline()
            assert line.startswith("TLS_PORT "), line
            self.tls_port = int(line.split()[1])
            self.wss_url = f"wss://localhost:{self.tls_port}/v1/realtime?model=gpt-realtime"

    def script(self, s):
        req = urllib.request.Request(self.base + "/control/script", data=json.dumps(s).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()

    def received(self, type_=None):
        log = json.loads(urllib.request.urlopen(self.base + "/control/received", timeout=5).read())
        return [e for e in log if type_ is None or e["type"] == type_]

    def stop(self):
        self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)
