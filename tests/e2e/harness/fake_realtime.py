"""tests/fake_openai/fake_realtime.py (a fake OpenAI Realtime server) as a process for one
test: started on a free port, scripted and asked what it received over HTTP, stopped."""
from .fake_openai import FAKES, FakeProcess


class FakeRealtime(FakeProcess):
    def __init__(self):
        super().__init__(FAKES / "fake_realtime.py")
        self.ws_url = f"ws://127.0.0.1:{self.port}/v1/realtime?model=gpt-realtime"

    def received(self, type_=None):
        return [e for e in self.get("/control/received") if type_ is None or e["type"] == type_]
