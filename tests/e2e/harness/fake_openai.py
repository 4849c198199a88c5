"""tests/fake_openai as a process for one test: started on a free port, scripted and asked
for its request log over HTTP, stopped (it also exits when the test process dies)."""
import json
import pathlib
import subprocess
import sys
import urllib.request

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "fake_openai" / "fake_openai.py"


class FakeOpenAi:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--port", "0", "--exit-on-stdin-eof"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("PORT "), line
        self.base = f"http://127.0.0.1:{int(line.split()[1])}"

    def script(self, s):
        req = urllib.request.Request(self.base + "/control/script", data=json.dumps(s).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()

    def requests(self):
        return json.loads(urllib.request.urlopen(self.base + "/control/requests", timeout=5).read())

    def chats(self):
        return [r for r in self.requests() if r["path"].endswith("/chat/completions")]

    def stop(self):
        self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)
