"""atende config files for tests: trunks, dial plan, API tokens, webhooks as YAML."""
import json


def write_config(workdir, name="atende.yaml", **sections):
    """Writes each keyword as a top-level key (JSON is valid YAML) and returns the path,
    e.g. write_config(w, trunks=[{...}], dialplan=[...])."""
    path = workdir / name
    with open(path, "w") as f:
        for key, value in sections.items():
            f.write(f"{key}: {json.dumps(value)}\n")
    return path


def trunk(name, kam_or_target, **fields):
    """A trunk pointing at a Kamailio (its .port) or a (host, port)."""
    host, port = ("127.0.0.1", kam_or_target.port) if hasattr(kam_or_target, "port") \
        else kam_or_target
    return {"name": name, "host": host, "port": port, **fields}
