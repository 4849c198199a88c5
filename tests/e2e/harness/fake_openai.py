"""The fake providers of tests/fake_openai as processes for one test: started on a free
port, scripted and asked for their request logs over HTTP, stopped (they also exit when the
test process dies)."""
import json
import pathlib
import subprocess
import sys
import urllib.request

FAKES = pathlib.Path(__file__).resolve().parents[2] / "fake_openai"
SCRIPT = FAKES / "fake_openai.py"


class FakeProcess:
    """One fake server script: it prints `PORT <n>` first and exits on stdin EOF."""

    def __init__(self, script, extra_args=()):
        self.proc = subprocess.Popen(
            [sys.executable, str(script), "--port", "0", "--exit-on-stdin-eof", *extra_args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("PORT "), line
        self.port = int(line.split()[1])
        self.base = f"http://127.0.0.1:{self.port}"

    def script(self, s):
        req = urllib.request.Request(self.base + "/control/script", data=json.dumps(s).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()

    def get(self, path):
        return json.loads(urllib.request.urlopen(self.base + path, timeout=5).read())

    def stop(self):
        self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


class FakeOpenAi(FakeProcess):
    """fake_openai.py: chat completions, transcriptions, speech, HTTP tools."""

    def __init__(self):
        super().__init__(SCRIPT)

    def requests(self, path_part=""):
        return [r for r in self.get("/control/requests") if path_part in r["path"]]

    def chats(self):
        return [r for r in self.requests() if r["path"].endswith("/chat/completions")]


class FakeStreamStt(FakeProcess):
    """fake_stream_stt.py: streaming recognisers over WebSocket (OpenAI realtime
    transcription, Deepgram-style)."""

    def __init__(self):
        super().__init__(FAKES / "fake_stream_stt.py")

    def received(self):
        return self.get("/control/received")
