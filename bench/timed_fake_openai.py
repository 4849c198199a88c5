#!/usr/bin/python3
"""tests/fake_openai/fake_openai.py with provider timings, for bench/agent_load.py.

Runs the test fake unchanged (same flags, same wire formats, same scripts) and adds to each
entry of its request log (GET /control/requests), on CLOCK_MONOTONIC (time.monotonic(), the
clock atende's media and bench/loadgen_agent use too):
  t_recv       the request head was parsed (the handler started),
  t_first      the first body chunk of a streamed answer was written (chat, speech),
  t_done       the handler finished (the whole answer written),
  answer_text  for transcriptions: the text it answered (benchmarks match turns by it).
The benchmark subtracts this provider time from the pipeline's latency. The fake itself
answers at once as the benchmark assumes (TCP_NODELAY, a cached synthetic tone).
"""
import importlib.util
import pathlib
import threading
import time

FAKE = pathlib.Path(__file__).resolve().parents[1] / "tests" / "fake_openai" / "fake_openai.py"
_spec = importlib.util.spec_from_file_location("fake_openai", FAKE)
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)

_local = threading.local()  # the request being handled on this connection's thread

_log, _next = fake.State.log, fake.State.next
_do_post, _write_chunk = fake.Handler.do_POST, fake.Handler.write_chunk


def log(self, entry):
    # Keys added before the entry is shared, so later stamps never resize a dict that
    # another thread may be serialising.
    entry.update(t_recv=getattr(_local, "t_recv", None), t_first=None, t_done=None,
                 answer_text=None)
    _local.entry = entry
    _log(self, entry)


def next_answer(self, kind, *args, **kwargs):
    answer = _next(self, kind, *args, **kwargs)
    entry = getattr(_local, "entry", None)
    if kind == "transcriptions" and entry is not None:
        entry["answer_text"] = (answer or {}).get("text", "")
    return answer


def do_post(self):
    _local.t_recv = time.monotonic()
    _local.entry = None
    try:
        _do_post(self)
    finally:
        if _local.entry is not None:
            _local.entry["t_done"] = time.monotonic()


def write_chunk(self, data, split=0):
    entry = getattr(_local, "entry", None)
    if entry is not None and entry["t_first"] is None:
        entry["t_first"] = time.monotonic()
    return _write_chunk(self, data, split)


fake.State.log = log
fake.State.next = next_answer
fake.Handler.do_POST = do_post
fake.Handler.write_chunk = write_chunk

if __name__ == "__main__":
    fake.main()
