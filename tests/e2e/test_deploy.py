"""deploy/ checked offline: the systemd unit passes `systemd-analyze verify` and keeps its
hardening, compose.yaml and the Prometheus and Grafana files parse and point at files that
exist, every metric the Grafana dashboard queries is exported by a live atende, and the
runtime-package list the Dockerfile installs names installed Debian packages. (Images cannot
be built here: no registry for base images.)"""
import configparser
import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest
import yaml

from harness import http_api

pytestmark = pytest.mark.atende_only

SOURCE = pathlib.Path(os.environ.get("ATENDE_SOURCE_DIR") or pathlib.Path(__file__).parents[2])
DEPLOY = SOURCE / "deploy"
BIN = os.environ.get("ATENDE_BIN")


def _unit():
    # systemd units repeat keys (SystemCallFilter, Environment): keep every value.
    class Multi(dict):
        def __setitem__(self, key, value):
            if key in self and isinstance(value, list):
                self[key].extend(value)
            else:
                super().__setitem__(key, value)

    parser = configparser.RawConfigParser(dict_type=Multi, strict=False,
                                          empty_lines_in_values=False)
    parser.optionxform = str
    parser.read(DEPLOY / "atende.service")
    return parser


def test_systemd_unit_verifies(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze not installed (Debian package systemd)")
    text = (DEPLOY / "atende.service").read_text()
    # verify checks that ExecStart's binary exists: point it at the one under test.
    unit = tmp_path / "atende.service"
    unit.write_text(text.replace("/usr/bin/atende", BIN))
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "atende.service" not in r.stderr, r.stderr  # no warning about our unit either


def test_systemd_unit_is_hardened_and_reloads_with_sighup():
    service = _unit()["Service"]
    text = (DEPLOY / "atende.service").read_text()
    for key, want in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                      ("DynamicUser", "yes"), ("StateDirectory", "atende"),
                      ("PrivateTmp", "yes"), ("ProtectHome", "yes"),
                      ("RestrictNamespaces", "yes"), ("MemoryDenyWriteExecute", "yes")]:
        assert service.get(key, "").strip() == want, f"{key}={service.get(key)!r}"
    assert re.search(r"^CapabilityBoundingSet=$", text, re.M)  # empty: no capability
    assert re.search(r"^AmbientCapabilities=$", text, re.M)
    assert "@system-service" in text and re.search(r"^SystemCallFilter=", text, re.M)
    families = service["RestrictAddressFamilies"].split()
    assert set(families) <= {"AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"}, families
    assert "-HUP" in service["ExecReload"] and "$MAINPID" in service["ExecReload"]
    assert "ATENDE_DATA_DIR=/var/lib/atende" in text  # where StateDirectory puts it
    assert service["ExecStart"].split()[:2] == ["/usr/bin/atende", "serve"]


def test_compose_and_prometheus_and_grafana_files_parse():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"atende", "prometheus", "grafana"} <= set(services)
    assert services["atende"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (DEPLOY / services["atende"]["build"]["context"] / "deploy" / "Dockerfile").is_file()
    for name, svc in services.items():
        for volume in svc.get("volumes", []):
            src = volume.split(":")[0]
            if src.startswith("."):  # a bind mount: the file or folder must be in deploy/
                assert (DEPLOY / src).exists(), f"{name}: {src} is missing"
            else:
                assert src in compose.get("volumes", {}), f"{name}: volume {src} undeclared"
    prom = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    job = prom["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics"
    http_listen = services["atende"]["environment"]["ATENDE_HTTP_LISTEN"]
    assert http_listen in job["static_configs"][0]["targets"]
    datasource = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yaml").read_text())
    assert datasource["datasources"][0]["type"] == "prometheus"
    listen = next(a for a in services["prometheus"]["command"] if "listen-address" in a)
    assert datasource["datasources"][0]["url"].endswith(listen.split("=")[1])
    provider = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/dashboards/atende.yaml").read_text())
    path = provider["providers"][0]["options"]["path"]
    mounted = [v for v in services["grafana"]["volumes"] if v.split(":")[1] == path]
    assert mounted and (DEPLOY / mounted[0].split(":")[0] / "atende.json").is_file()


def _dashboard_series():
    dash = json.loads((DEPLOY / "grafana/dashboards/atende.json").read_text())
    names = set()
    for panel in dash["panels"]:
        for target in panel.get("targets", []):
            names |= set(re.findall(r"\batende_[a-z0-9_]+", target["expr"]))
    return dash, names


def test_dashboard_queries_only_metrics_a_live_atende_exports(server):
    dash, names = _dashboard_series()
    titles = " ".join(p["title"].lower() for p in dash["panels"])
    for topic in ("calls", "latency", "loss", "jitter", "provider errors"):
        assert topic in titles, topic
    text = http_api.get_text(server.http_base + "/metrics")
    exported = {line.split("{")[0].split(" ")[0] for line in text.splitlines()
                if line and not line.startswith("#")}
    missing = sorted(names - exported)
    assert not missing, f"the dashboard queries series atende does not export: {missing}"
    assert {"atende_calls_total", "atende_rtp_lost_packets_total", "atende_turn_errors_total",
            "atende_rtp_jitter_seconds_bucket", "atende_turn_stt_seconds_bucket"} <= names


def test_runtime_packages_are_debian_packages_of_the_binary():
    r = subprocess.run([str(DEPLOY / "runtime-packages"), BIN], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    packages = r.stdout.split()
    assert {"libc6", "libsofia-sip-ua0", "libsqlite3-0"} <= set(packages), packages
    for p in packages:
        q = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True,
                           text=True)
        assert "install ok installed" in q.stdout, p


def test_dockerfile_builds_on_debian_12_with_install_deps():
    text = (DEPLOY / "Dockerfile").read_text()
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert froms and all(f == "debian:12" for f in froms), froms
    assert "scripts/install-deps" in text and "deploy/runtime-packages" in text
    assert (SOURCE / "scripts/install-deps").is_file()
    # Every variable the image sets is a setting docs/operations.md lists.
    docs = (SOURCE / "docs/operations.md").read_text()
    for name in re.findall(r"\b(ATENDE_[A-Z_]+)=", text):
        key = name[len("ATENDE_"):].lower()
        assert f"`{key}`" in docs, f"{name}: no key `{key}` in docs/operations.md"
