"""Starting atende with AudioSocket listeners and an API token for the AudioSocket tests."""
from .config import write_config
from .ports import free_port

TOKEN = "audiosocket-token-0123456789abcdef"


def start_with_listeners(server_factory, workdir, flows, **sections):
    """flows: the default flow of each listener, in order. Returns (server, [ports])."""
    ports = [free_port() for _ in flows]
    listeners = [{"listen": f"127.0.0.1:{p}", "flow": f} for p, f in zip(ports, flows)]
    sections.setdefault("api_tokens", [{"name": "pbx", "token": TOKEN,
                                        "allow": ["audiosocket:*", "sip:*", "2xxx"]}])
    cfg = write_config(workdir, audiosocket_listen=listeners, **sections)
    return server_factory(extra_args=["--config", str(cfg)]), ports


def wait_until(predicate, timeout, step=0.1):
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def ended_record(srv, call_id, timeout=10.0):
    """The call's record once it has ended (retrying while the store has not written it)."""
    import time
    from . import http_api
    deadline = time.monotonic() + timeout
    rec = None
    while time.monotonic() < deadline:
        try:
            rec = http_api.get_json(f"{srv.http_base}/api/calls/{call_id}")
            if rec.get("ended_at"):
                return rec
        except Exception:  # 404 until the store's queue is written
            pass
        time.sleep(0.2)
    raise AssertionError(f"call {call_id} did not end in {timeout} s: {rec}")


def labelled_metric(text, name, label):
    """The value of `name{...label...}`, or None."""
    for line in text.splitlines():
        if line.startswith(name + "{") and label in line.split("}", 1)[0]:
            return float(line.rsplit(" ", 1)[1])
    return None
