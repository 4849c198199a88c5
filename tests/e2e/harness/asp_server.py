"""Starting atende with an API token that opens /asp (docs/asp.md) for the ASP tests."""
from .config import write_config

TOKEN = "asp-token-0123456789abcdef"


def start_asp_server(server_factory, workdir, name="atende.yaml", extra_args=(), **sections):
    sections.setdefault("api_tokens", [{"name": "media", "token": TOKEN,
                                        "allow": ["ws://*", "wss://*", "sip:*"]}])
    sections.setdefault("audiosocket_listen", "off")
    cfg = write_config(workdir, name=name, **sections)
    return server_factory(extra_args=["--config", str(cfg), *extra_args])


def asp_flow(name, url, extra=""):
    """A flow that bridges the caller to the ASP agent at `url` (`type: asp`), and says so
    and hangs up when it cannot."""
    extra_line = f"\n    {extra}" if extra else ""
    return f"""
name: {name}
start: talk
steps:
  talk:
    type: asp
    url: "{url}"{extra_line}
    on_failure: sorry
  sorry:
    type: say
    text: "The assistant is not available."
    next: bye
  bye:
    type: hangup
"""


def plain_metric(text, name):
    """The value of an unlabelled metric line `name VALUE`, or None."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None
