"""tests/fake_openai/fake_realtime.py (a fake OpenAI Realtime server) as a process for one
test: started on a free port, scripted and asked what it received over HTTP, stopped."""
from .fake_openai import FAKES, FakeProcess


class FakeRealtime(FakeProcess):
    def __init__(self, tls_cert=None, tls_key=None):
        """With tls_cert and tls_key (PEM paths) it also serves wss:// (wss_url): the
        control endpoints stay on plain HTTP (base)."""
        tls = ["--tls-cert", str(tls_cert), "--tls-key", str(tls_key)] if tls_cert else []
        super().__init__(FAKES / "fake_realtime.py", tls)
        self.ws_url = f"ws://127.0.0.1:{self.port}/v1/realtime?model=gpt-realtime"
        if tls_cert:
            line = self.proc.stdout.readline()
            assert line.startswith("TLS_PORT "), line
            self.tls_port = int(line.split()[1])
            self.wss_url = f"wss://localhost:{self.tls_port}/v1/realtime?model=gpt-realtime"

    def received(self, type_=None):
        return [e for e in self.get("/control/received") if type_ is None or e["type"] == type_]
