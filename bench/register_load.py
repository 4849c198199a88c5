#!/usr/bin/python3
"""Registration load: atende keeps N trunk accounts registered with Kamailio (digest auth,
tests/e2e/kamailio, accounts generated), with a short expiry so refreshes happen during the
run. Baseline in the same run and against the same Kamailio: SIPp registers N other
accounts of the same kind (bench/sipp/uac_register_many.xml: REGISTER, 401, REGISTER with
digest, 200; users from an injection file).

Phases, all timed from Kamailio's side (`usrloc:location-users` polled over kamcmd):
  1. baseline: SIPp sends the N registrations at --sipp-rate; time until Kamailio holds
     them all, SIPp's and Kamailio's CPU per registration.
  2. atende: started with N trunks (register: true, register_expires); time from spawn
     until Kamailio holds them all (and until atende's /api/trunks says so), atende's CPU
     per registration (start-up included; an empty atende's start-up CPU is listed too).
  3. refresh: --refresh-seconds (> one expiry) with every account registered: REGISTER
     requests/s and accepted refreshes/s at Kamailio, rejected ones, trunks that left the
     `registered` state, accounts that expired, atende's CPU and RSS.
atende's RSS per trunk = (RSS with N trunks - RSS of the same server with none) / N.

Config limits met: the test config takes its accounts in a -A define, and 2,000 of them
overflow Kamailio's config lexer ("flex scanner push-back overflow"), so the bench runs a
copy whose REGISTER route derives each generated account's password from its name (digest
is still checked in full); shared memory -m (64 MB default) holds the location table.

Usage: bench/register_load.py [--build-dir DIR] [--accounts 1000] [--expires 60]
       [--refresh-seconds 75] [--sipp-rate 5000] [--results-dir DIR]
Results: bench/results/register_load.{json,md}. Bounded: each phase has a timeout.
"""
import argparse
import os
import pathlib
import re
import resource
import tempfile
import threading
import time

import bench_common as bc
from harness import http_api, procs
from harness import kamailio as kam_mod
from harness.config import trunk, write_config
from harness.kamailio import Kamailio
from harness.sipp import Sipp

RTP_PORTS = (10000, 19999)
SCENARIO = str(bc.BENCH_DIR / "sipp" / "uac_register_many")  # Sipp adds .xml


class BenchKamailio(Kamailio):
    """The e2e registrar with its account-loading loop unbounded and a chosen memory size."""

    def __init__(self, workdir, *args, shm_mb=64, **kwargs):
        super().__init__(workdir, *args, **kwargs)
        text = kam_mod.CONFIG.read_text()
        # The accounts are generated: USER's password is "pw" USER "x". (Passing 2,000
        # accounts in the USERS define overflows the config lexer's buffer.)
        lookup = "\t$var(pw) = $sht(users=>$au);\n"
        assert text.count(lookup) == 1, "registrar_proxy.cfg changed: update the bench"
        text = text.replace(lookup, '\t$var(pw) = "pw" + $au + "x";\n', 1)
        self.cfg = self.dir / "registrar_proxy_bench.cfg"
        self.cfg.write_text(text)
        self.shm_mb = shm_mb

    def command(self):
        cmd = super().command()
        cmd[cmd.index("-f") + 1] = str(self.cfg)
        cmd[cmd.index("-m") + 1] = str(self.shm_mb)
        return cmd

    def stats(self):
        rc, out = self.kamcmd("stats.get_statistics", "all", timeout=10)
        vals = {}
        for m in re.finditer(r"([\w.-]+:[\w.-]+) = (\d+)", out):
            vals[m.group(1)] = int(m.group(2))
        return vals

    def location_users_and_registers(self):
        rc, out = self.kamcmd("stats.get_statistics", "location_users", "rcv_requests_register")
        u = re.search(r"location_users = (\d+)", out)
        r = re.search(r"rcv_requests_register = (\d+)", out)
        return (int(u.group(1)) if u else -1), (int(r.group(1)) if r else -1)

    def location_users(self):
        rc, out = self.kamcmd("stats.get_statistics", "location_users")
        m = re.search(r"location_users = (\d+)", out)
        return int(m.group(1)) if m else -1


def group_cpu_seconds(pgid):
    total = 0.0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += (int(fields[11]) + int(fields[12])) / procs.CLOCK_TICKS
    return total


def children_cpu_s():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def udp_drops():
    """Datagrams dropped per local UDP port (/proc/net/udp, last column: receive buffer
    full)."""
    out = {}
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            port = int(fields[1].split(":")[1], 16)
            out[port] = out.get(port, 0) + int(fields[-1])
    return out


def password(prefix, i):
    return f"pw{prefix}{i:05d}x"


def wait_count(kam, target, t0, timeout, samples=None, cpu=None):
    """Polls Kamailio (every ~10-20 ms) until location-users >= target. Returns {"first": s
    since t0 when the first new REGISTER had arrived, "all": s since t0 when every account
    was in, "cpu_first"/"cpu_all": cpu() then} (None where not reached)."""
    deadline = t0 + timeout
    out = {"first": None, "all": None, "cpu_first": None, "cpu_all": None}
    reqs0 = None
    while time.monotonic() < deadline:
        n, reqs = kam.location_users_and_registers()
        now = time.monotonic() - t0
        if samples is not None:
            samples.append((round(now, 2), n))
        if reqs0 is None:
            reqs0 = reqs
        elif out["first"] is None and reqs > reqs0:
            out["first"], out["cpu_first"] = now, cpu() if cpu else None
        if n >= target:
            out["all"], out["cpu_all"] = now, cpu() if cpu else None
            if out["first"] is None:
                out["first"] = out["all"]
            return out
        time.sleep(0.01)  # kamcmd itself takes a few ms: ~10-20 ms resolution
    return out


def sipp_phase(kam, tmp, n, rate, expires):
    work = tmp / "sipp"
    work.mkdir()
    inf = work / "users.csv"
    inf.write_text("SEQUENTIAL\n" + "".join(
        f"s{i:05d};[authentication username=s{i:05d} password={password('s', i)}]\n"
        for i in range(n)))
    base = kam.location_users()
    s0 = kam.stats()
    kcpu0, ccpu0 = group_cpu_seconds(kam.proc.pid), children_cpu_s()
    d0 = udp_drops()
    t0 = time.monotonic()
    sipp = Sipp(SCENARIO, kam.target, work, calls=n, rate=rate, limit=n, timeout_s=60,
                tag="register", trace_messages=False,
                substitutions={"EXPIRES": expires},
                extra_args=["-inf", str(inf), "-max_socket", "1000"])
    sipp.start()
    took = wait_count(kam, base + n, t0, 90)
    result = sipp.wait()
    d1 = udp_drops()
    span = took["all"] - took["first"] if took["all"] is not None else None
    kcpu = group_cpu_seconds(kam.proc.pid) - kcpu0
    elapsed = time.monotonic() - t0
    s1 = kam.stats()
    scpu = children_cpu_s() - ccpu0
    return {"accounts": n, "sipp_rate": rate, "expires": expires,
            "all_registered_s": round(span, 3) if span is not None else None,
            "first_register_s": took["first"],
            "sipp_successful": result.successful, "sipp_failed": result.failed,
            "sipp_cpu_ms_per_registration": round(1000 * scpu / max(1, result.successful), 3),
            "kamailio_cpu_ms_per_registration": round(1000 * kcpu / n, 3),
            "window_s": round(elapsed, 2),
            "register_requests": delta(s0, s1, "core:rcv_requests_register"),
            "accepted": delta(s0, s1, "registrar:accepted_regs"),
            "rejected": delta(s0, s1, "registrar:rejected_regs"),
            "udp_drops": {"kamailio": d1.get(kam.port, 0) - d0.get(kam.port, 0),
                          "sipp": d1.get(sipp.local_port, 0) - d0.get(sipp.local_port, 0)},
            "errors_tail": result.errors[-400:] if result.failed else ""}


def delta(s0, s1, key):
    return s1.get(key, 0) - s0.get(key, 0)


def trunk_states(server):
    counts = {}
    for t in http_api.get_json(server.http_base + "/api/trunks", timeout=10):
        counts[t["state"]] = counts.get(t["state"], 0) + 1
    return counts


def empty_atende(binary, tmp):
    server = bc.Server("atende", binary, tmp / "empty", extra_args=["--log-level", "warn"])
    server.rtp_range = RTP_PORTS
    t0 = time.monotonic()
    server.start()
    ready = time.monotonic() - t0
    time.sleep(1)
    out = {"rss_mb": round(procs.rss_bytes(server.pid()) / 1e6, 2),
           "startup_cpu_ms": round(1000 * procs.cpu_seconds(server.pid()), 1),
           "ready_s": round(ready, 3)}
    server.stop()
    return out


def atende_phase(binary, kam, tmp, n, expires, refresh_s, empty):
    work = tmp / "atende"
    trunks = [trunk(f"t{i:05d}", kam, user=f"a{i:05d}", password=password("a", i),
                    register=True, register_expires=expires) for i in range(n)]
    work.mkdir()
    cfg = write_config(work, trunks=trunks)
    server = bc.Server("atende", binary, work,
                       extra_args=["--log-level", "warn", "--config", str(cfg)])
    server.rtp_range = RTP_PORTS
    base = kam.location_users()
    s0 = kam.stats()
    kcpu0 = group_cpu_seconds(kam.proc.pid)
    d0 = udp_drops()
    samples = []
    t0 = time.monotonic()
    took = {}

    def atende_cpu():
        return procs.cpu_seconds(server.proc.pid)
    poll = threading.Thread(target=lambda: took.__setitem__(
        "kam", wait_count(kam, base + n, t0, 120, samples, atende_cpu)))
    poll.start()
    out = {"accounts": n, "expires": expires, "config_bytes": cfg.stat().st_size}
    try:
        server.start(ready_timeout=60)
        out["ready_s"] = round(time.monotonic() - t0, 3)
        poll.join()
        t_kam = took["kam"]
        if t_kam["all"] is not None:
            out["all_registered_s"] = round(t_kam["all"] - t_kam["first"], 3)
            out["first_register_after_spawn_s"] = round(t_kam["first"], 3)
            out["all_registered_after_spawn_s"] = round(t_kam["all"], 3)
            out["atende_cpu_ms_while_registering"] = round(
                1000 * (t_kam["cpu_all"] - t_kam["cpu_first"]), 1)
        else:
            out["all_registered_s"] = None
        # atende's own view: every trunk `registered` in /api/trunks
        deadline = time.monotonic() + 30
        states = {}
        while time.monotonic() < deadline:
            states = trunk_states(server)
            if states.get("registered", 0) >= n:
                break
            time.sleep(0.2)
        out["api_all_registered_s"] = round(time.monotonic() - t0, 3) \
            if states.get("registered", 0) >= n else None
        out["states_after_initial"] = states
        cpu_initial = procs.cpu_seconds(server.pid())
        s1 = kam.stats()
        kcpu1 = group_cpu_seconds(kam.proc.pid)
        out["atende_cpu_ms_initial"] = round(1000 * cpu_initial, 1)
        out["atende_cpu_ms_per_registration"] = round(
            (1000 * cpu_initial - empty["startup_cpu_ms"]) / n, 3)
        out["kamailio_cpu_ms_per_registration"] = round(1000 * (kcpu1 - kcpu0) / n, 3)
        out["register_requests_initial"] = delta(s0, s1, "core:rcv_requests_register")
        out["rejected_initial"] = delta(s0, s1, "registrar:rejected_regs")
        d1 = udp_drops()
        out["udp_drops_initial"] = {
            "kamailio": d1.get(kam.port, 0) - d0.get(kam.port, 0),
            "atende": d1.get(server.sip_port, 0) - d0.get(server.sip_port, 0)}
        out["rss_mb"] = round(procs.rss_bytes(server.pid()) / 1e6, 2)
        out["threads"] = procs.thread_count(server.pid())
        out["progress"] = samples[::max(1, len(samples) // 40)]

        # refresh window: everything registered, nua refreshes before expiry
        t1 = time.monotonic()
        a1 = procs.cpu_seconds(server.pid())
        d1 = udp_drops()
        min_users, min_registered = n + base, n
        while time.monotonic() - t1 < refresh_s:
            time.sleep(2)
            min_users = min(min_users, kam.location_users())
            min_registered = min(min_registered, trunk_states(server).get("registered", 0))
        elapsed = time.monotonic() - t1
        a2 = procs.cpu_seconds(server.pid())
        k2, s2 = group_cpu_seconds(kam.proc.pid), kam.stats()
        d2 = udp_drops()
        reqs = delta(s1, s2, "core:rcv_requests_register")
        acc = delta(s1, s2, "registrar:accepted_regs")
        out["refresh"] = {
            "window_s": round(elapsed, 1),
            "register_requests_per_s": round(reqs / elapsed, 1),
            "accepted_per_s": round(acc / elapsed, 1),
            "requests_per_accepted": round(reqs / acc, 2) if acc else None,
            "rejected": delta(s1, s2, "registrar:rejected_regs"),
            "udp_drops": {"kamailio": d2.get(kam.port, 0) - d1.get(kam.port, 0),
                          "atende": d2.get(server.sip_port, 0) - d1.get(server.sip_port, 0)},
            "atende_cpu_pct": round(100 * (a2 - a1) / elapsed, 2),
            "atende_cpu_ms_per_refresh": round(1000 * (a2 - a1) / max(1, acc), 3),
            "kamailio_cpu_pct": round(100 * (k2 - kcpu1) / elapsed, 2),
            "min_location_users_of_atende": min_users - base,
            "min_trunks_registered": min_registered,
            "states_at_end": trunk_states(server),
            "rss_mb_at_end": round(procs.rss_bytes(server.pid()) / 1e6, 2),
        }
        warn = [l for l in server.stderr_text().splitlines() if " warn" in l or "error" in l]
        out["atende_warnings"] = len(warn)
        out["atende_warnings_tail"] = warn[-5:]
    finally:
        poll.join()
        server.stop(timeout=40)
    return out


def markdown(res):
    m, s, a, e = res["machine"], res["sipp"], res["atende"], res["empty_atende"]
    r = a.get("refresh", {})
    n = a["accounts"]
    per_reg = round(a["atende_cpu_ms_while_registering"] / n, 3) \
        if a.get("atende_cpu_ms_while_registering") is not None else None
    rss_per = round(1000 * (a["rss_mb"] - e["rss_mb"]) / n, 1) if a.get("rss_mb") else None
    lines = [
        "# Registration load: atende's trunks vs. SIPp, same Kamailio", "",
        f"{m['when']}, {m['host']}, {m['cpus']} CPUs, kernel {m['kernel']}; load average "
        f"{res['loadavg_start']} at start, {res['loadavg_end']} at end. {n} accounts each, "
        f"digest auth (401 then 200), Kamailio 5.6 (children=2, -m {res['kamailio_shm_mb']} "
        "MB, debug=1, usrloc in memory); time measured until Kamailio's location table "
        "holds every account.", "",
        "| | atende | SIPp (baseline) | ratio |", "|---|---|---|---|",
        f"| time from the first REGISTER until all {n} registered (s) | "
        f"{a.get('all_registered_s')} (first REGISTER {a.get('first_register_after_spawn_s')} s "
        f"after spawn; ready at {a.get('ready_s')}) | {s['all_registered_s']} (at -r "
        f"{s['sipp_rate']}) | **{ratio(a.get('all_registered_s'), s['all_registered_s'])}** |",
        f"| client CPU ms per registration (while registering) | {per_reg} | "
        f"{s['sipp_cpu_ms_per_registration']} (whole run) | "
        f"**{ratio(per_reg, s['sipp_cpu_ms_per_registration'])}** |",
        f"| atende CPU ms per registration (all CPU until registered - an empty server's "
        f"start-up, {e['startup_cpu_ms']} ms) | {a.get('atende_cpu_ms_per_registration')} | | |",
        f"| Kamailio CPU ms per registration | {a.get('kamailio_cpu_ms_per_registration')} | "
        f"{s['kamailio_cpu_ms_per_registration']} | |",
        f"| REGISTER requests for the first round | {a.get('register_requests_initial')} | "
        f"{s['register_requests']} | |",
        f"| UDP datagrams dropped (receive buffer full) during the first round | "
        f"{a.get('udp_drops_initial')} | {s.get('udp_drops')} | |",
        f"| failures | rejected {a.get('rejected_initial')}, states {a.get('states_after_initial')}"
        f" | SIPp failed {s['sipp_failed']}, rejected {s['rejected']} | |",
        "", f"Refresh window ({r.get('window_s')} s, register_expires {a['expires']} s):", "",
        f"- REGISTER requests at Kamailio **{r.get('register_requests_per_s')}/s**, accepted "
        f"refreshes **{r.get('accepted_per_s')}/s** ({r.get('requests_per_accepted')} requests "
        f"per refresh), rejected {r.get('rejected')}, UDP drops {r.get('udp_drops')}.",
        f"- Accounts never lost: fewest of atende's in the location table "
        f"{r.get('min_location_users_of_atende')} / {n}; fewest trunks `registered` in "
        f"/api/trunks {r.get('min_trunks_registered')}; states at end {r.get('states_at_end')}.",
        f"- atende CPU {r.get('atende_cpu_pct')} % of one core "
        f"({r.get('atende_cpu_ms_per_refresh')} ms per refresh), Kamailio "
        f"{r.get('kamailio_cpu_pct')} %.",
        f"- atende RSS {a.get('rss_mb')} MB with {n} trunks vs {e['rss_mb']} MB empty: "
        f"**{rss_per} KB per trunk**; {a.get('threads')} threads; config "
        f"{a['config_bytes'] // 1024} KB; {a.get('atende_warnings')} warnings logged.",
    ]
    return "\n".join(lines) + "\n"


def ratio(x, y):
    return round(x / y, 2) if x and y else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir")
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--expires", type=int, default=60)
    ap.add_argument("--refresh-seconds", type=float, default=75)
    ap.add_argument("--sipp-rate", type=int, default=5000)
    ap.add_argument("--kamailio-shm-mb", type=int, default=64)
    bc.add_results_dir_arg(ap)
    args = ap.parse_args()
    build = bc.find_build_dir(args.build_dir).resolve()
    binary = build / "atende"
    if not bc.atende_usable(binary):
        raise SystemExit(f"{binary} cannot `serve`")
    n = args.accounts
    res = {"machine": bc.machine(), "loadavg_start": round(os.getloadavg()[0], 2),
           "kamailio_shm_mb": args.kamailio_shm_mb}
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = pathlib.Path(tmpname)
        kam = BenchKamailio(tmp, tcp=False, debug=1, max_expires=7200,
                            shm_mb=args.kamailio_shm_mb)
        kam.start(timeout=60)
        try:
            rc, out = kam.kamcmd("htable.stats")
            res["kamailio_htable_stats"] = out.strip()[:400]
            res["empty_atende"] = empty_atende(binary, tmp)
            print("empty", res["empty_atende"], flush=True)
            # SIPp's registrations last past the run, so the two counts add up
            res["sipp"] = sipp_phase(kam, tmp, n, args.sipp_rate, 3600)
            print("sipp", res["sipp"], flush=True)
            res["atende"] = atende_phase(binary, kam, tmp, n, args.expires,
                                         args.refresh_seconds, res["empty_atende"])
            print("atende", {k: v for k, v in res["atende"].items() if k != "progress"},
                  flush=True)
        finally:
            kam.stop()
    res["loadavg_end"] = round(os.getloadavg()[0], 2)
    bc.write_results("register_load", res, markdown(res), out=args.results_dir)


if __name__ == "__main__":
    main()
