#!/usr/bin/python3
"""Outbound call rate: atende places short calls (POST /api/calls) through Kamailio (proxy,
no auth; tests/e2e/kamailio) to a SIPp UAS (tests/e2e/sipp/uas_answer.xml, answers at
once). The flow (`quickbye`, written into a temp flows dir) hangs up as soon as the call is
answered: INVITE, 100, 180, 200, ACK, BYE, 200 on both hops of the proxy.

Per rate, in the same run and each on a freshly started atende:
  placed   - a load client (this script with --client, Python http.client keep-alive,
             paced from absolute deadlines over --threads threads) POSTs /api/calls at the
             rate for --seconds; the records are read back from GET /api/calls.
  inbound  - SIPp UAC (bench/sipp/uac_call_server_bye.xml: INVITE, ACK, takes the flow's
             BYE) calls atende directly at the same rate, same count, same flow.
Reported: achieved placed/s, success % (records answered and hung up by the flow /
requested), atende CPU ms per call (utime+stime from /proc, all threads) for both, their
ratio placed/inbound (target <= 1.5) and every process's CPU % (atende, Kamailio with its
children, SIPp UAS/UAC, the load client): all share the same 2 cores.
A "client" row first measures the load client's own ceiling: unpaced GET /healthz.

Usage: bench/outbound_rate.py [--build-dir DIR] [--rates 100,250,500,1000] [--seconds 5]
       [--threads 2] [--kamailio-shm-mb 256] [--direct] [--results-dir DIR]
--direct dials the UAS's sip: URI instead (no proxy in the path; Kamailio idles): what atende
places when the proxy is not sharing the cores. Results then go to outbound_rate_direct.*.
Results: bench/results/outbound_rate.{json,md} (--name NAME: NAME.{json,md}). Every step is
bounded (seconds + 30 s).
"""
import argparse
import http.client
import json
import os
import pathlib
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time

import bench_common as bc
from harness import http_api, procs
from harness.config import trunk, write_config
from harness.kamailio import Kamailio
from harness.sipp import Sipp, SippUas

TOKEN = "bench-token-0123456789abcdef0123"
RTP_PORTS = (10000, 19999)
UAC_SCENARIO = str(bc.BENCH_DIR / "sipp" / "uac_call_server_bye")  # Sipp adds .xml
UAS_SCENARIO = str(bc.BENCH_DIR / "sipp" / "uas_answer_any_order")
FLOW = """# bench: answers and hangs up at once, saying nothing
name: quickbye
start: bye
steps:
  bye:
    type: hangup
"""


# -- the load client (runs as a child process so its CPU is its own) ----------------------
class BenchKamailio(Kamailio):
    """The e2e proxy with more shared memory: the tests' 64 MB ran out of transactions at
    ~500 calls/s (tm keeps each finished transaction ~5 s: "out of mem", then 500s)."""

    def __init__(self, *args, shm_mb=256, children=2, maxbuffer=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.shm_mb = shm_mb
        self.children = children
        self.maxbuffer = maxbuffer

    def command(self):
        cmd = super().command()
        cmd[cmd.index("-m") + 1] = str(self.shm_mb)
        cmd += ["-A", f"CHILDREN={int(self.children)}"]
        if self.maxbuffer:
            cmd += ["-A", f"MAXBUFFER={int(self.maxbuffer)}"]
        return cmd


def client_main(args):
    host, port = args.client.split(":")
    body = json.dumps({"to": args.to, "flow": "quickbye"}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    threads = args.threads
    total = int(args.rate * args.seconds) if args.rate else 0
    stats = [{"sent": 0, "status": {}, "late_ms": [], "lat_ms": [], "ids": []}
             for _ in range(threads)]
    t_start = time.monotonic() + 0.2

    def worker(k):
        st = stats[k]
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        i = k
        while True:
            if args.rate:
                if i >= total:
                    break
                due = t_start + i / args.rate
                now = time.monotonic()
                if due > now:
                    time.sleep(due - now)
                else:
                    st["late_ms"].append((now - due) * 1000)
            else:
                if time.monotonic() >= t_start + args.seconds:
                    break
            t0 = time.monotonic()
            try:
                if args.rate:
                    conn.request("POST", "/api/calls", body, headers)
                else:
                    conn.request("GET", "/healthz")
                r = conn.getresponse()
                data = r.read()
                code = r.status
            except (OSError, http.client.HTTPException):
                code = 0
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
                data = b""
            st["lat_ms"].append((time.monotonic() - t0) * 1000)
            st["status"][code] = st["status"].get(code, 0) + 1
            if code == 202:
                try:
                    st["ids"].append(json.loads(data)["id"])
                except (ValueError, KeyError):
                    pass
            st["sent"] += 1
            i += threads

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.monotonic() - t_start
    status, lat, late = {}, [], []
    for st in stats:
        for c, n in st["status"].items():
            status[str(c)] = status.get(str(c), 0) + n
        lat += st["lat_ms"]
        late += st["late_ms"]
    out = {"sent": sum(s["sent"] for s in stats), "elapsed_s": elapsed, "status": status,
           "lat_ms_p50": pct(lat, 50), "lat_ms_p99": pct(lat, 99),
           "late_ms_p99": pct(late, 99) if late else 0.0,
           "ids": [i for s in stats for i in s["ids"]]}
    json.dump(out, sys.stdout)


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, int(len(v) * p / 100))], 2)


# -- process accounting ----------------------------------------------------------------
def group_cpu_seconds(pgid):
    """CPU of every process in a process group (Kamailio's main and its children)."""
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


def udp_errors():
    """Box-wide UDP receive-buffer overflows and other receive errors (/proc/net/snmp)."""
    with open("/proc/net/snmp") as f:
        rows = [l.split() for l in f if l.startswith("Udp:")]
    d = dict(zip(rows[0][1:], map(int, rows[1][1:])))
    return {"rcvbuf_errors": d.get("RcvbufErrors", 0), "in_errors": d.get("InErrors", 0)}


def children_cpu_s():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class Meter:
    """CPU seconds of named processes between start() and stop()."""

    def __init__(self, **sources):
        self.sources = sources  # name -> callable returning cumulative CPU seconds

    def start(self):
        self.t0 = time.monotonic()
        self.c0 = {k: f() for k, f in self.sources.items()}
        return self

    def stop(self):
        self.elapsed = time.monotonic() - self.t0
        self.cpu = {k: f() - self.c0[k] for k, f in self.sources.items()}
        return self

    def pct(self):
        return {k: round(100 * v / self.elapsed, 1) for k, v in self.cpu.items()}


def safe_cpu(pid):
    try:
        return procs.cpu_seconds(pid)
    except OSError:
        return 0.0


# -- steps -----------------------------------------------------------------------------
def idle_cpu_pct(server, seconds=1.0):
    """atende's own CPU at rest (timers, media workers), so per-call costs can be net of it."""
    c0, t0 = procs.cpu_seconds(server.pid()), time.monotonic()
    time.sleep(seconds)
    return 100 * (procs.cpu_seconds(server.pid()) - c0) / (time.monotonic() - t0)


def start_atende(binary, workdir, flows_dir, config):
    server = bc.Server("atende", binary, workdir, max_calls=100000,
                       extra_args=["--log-level", "warn", "--flows-dir", str(flows_dir),
                                   "--config", str(config)])
    server.rtp_range = RTP_PORTS
    return server.start()


def thread_cpu(pid):
    """{tid: (name, CPU seconds)} of every thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        out[int(tid)] = (name, (int(fields[11]) + int(fields[12])) / procs.CLOCK_TICKS)
    return out


def thread_ms_per_call(before, after, calls):
    """CPU ms per call of each thread that used any, keyed "#<creation order> <name>" (most
    of atende's threads are unnamed; the order is the same from one start to the next)."""
    out = {}
    for i, tid in enumerate(sorted(after)):
        used = after[tid][1] - before.get(tid, ("", 0.0))[1]
        if used > 0:
            out[f"#{i} {after[tid][0]}"] = round(1000 * used / max(1, calls), 3)
    return out


def udp_drops():
    """Datagrams dropped per local UDP port (/proc/net/udp's last column: the socket's
    receive buffer was full)."""
    out = {}
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            port = int(fields[1].split(":")[1], 16)
            out[port] = out.get(port, 0) + int(fields[-1])
    return out


def drops_by(before, after, ports):
    named = {name: after.get(p, 0) - before.get(p, 0) for name, p in ports.items()}
    named["total_box"] = sum(after.values()) - sum(before.get(p, 0) for p in after)
    return named


def answer_ms(calls):
    """started_at -> answered_at of answered records, in ms (p50, p99, max)."""
    from datetime import datetime
    vals = []
    for c in calls:
        if c.get("answered_at") and c.get("started_at"):
            a = datetime.fromisoformat(c["answered_at"].replace("Z", "+00:00"))
            b = datetime.fromisoformat(c["started_at"].replace("Z", "+00:00"))
            vals.append((a - b).total_seconds() * 1000)
    return {"p50": pct(vals, 50), "p99": pct(vals, 99),
            "max": round(max(vals), 1) if vals else None}


def kam_stats(kam):
    """Kamailio's INVITE/BYE requests and replies it saw (kamcmd statistics)."""
    rc, out = kam.kamcmd("stats.get_statistics", "rcv_requests_invite", "rcv_requests_bye",
                         "rcv_requests_ack", "rcv_replies_2xx_invite", "rcv_replies_2xx_bye",
                         "fwd_replies", "drop_replies", "err_requests", "err_replies")
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"\w+:(\w+) = (\d+)", out)}


def active_calls(server):
    try:
        m = http_api.get_text(server.http_base + "/metrics")
        return http_api.metric_value(m, "atende_active_calls")
    except (OSError, AssertionError):
        return None


def list_calls(server):
    out, offset = [], 0
    while True:
        page = http_api.get_json(f"{server.http_base}/api/calls?limit=1000&offset={offset}")
        out += page
        if len(page) < 1000:
            return out
        offset += 1000


def wait_no_call_up(server, timeout, settle_s=0.3):
    """Until atende has no call up (GET /metrics: cheap, unlike listing every record), then
    settle_s more for the store writer's last commit. Both steps end their CPU window here,
    so neither pays for the bench reading the records back (that comes after)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if active_calls(server) in (0, 0.0):
            break
        time.sleep(0.1)
    time.sleep(settle_s)


def wait_all_ended(server, expected, timeout):
    deadline = time.monotonic() + timeout
    calls = []
    while time.monotonic() < deadline:
        calls = list_calls(server)
        if len(calls) >= expected and all(c.get("ended_at") for c in calls):
            return calls, True
        time.sleep(0.25)
    return calls, False


def outcome(calls):
    answered = [c for c in calls if c.get("answered_at")]
    ok = [c for c in answered if c.get("end_reason") == "local_bye"]
    reasons = {}
    for c in calls:
        if c not in ok:
            r = f"{c.get('end_reason')}/{c.get('sip_status')}"
            reasons[r] = reasons.get(r, 0) + 1
    return len(answered), len(ok), reasons


def run_client(target, rate, seconds, threads, mode_timeout, to="1001"):
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--client", target,
           "--rate", str(rate), "--seconds", str(seconds), "--threads", str(threads),
           "--to", to]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    pid = proc.pid
    last = [0.0]

    def cpu():  # the child's CPU while it runs; after it exits, from RUSAGE_CHILDREN
        v = safe_cpu(pid)
        last[0] = max(last[0], v)
        return last[0]
    return proc, cpu


def client_ceiling(binary, tmp, flows_dir, config, threads, seconds=3):
    server = start_atende(binary, tmp / "ceiling", flows_dir, config)
    try:
        c0 = children_cpu_s()
        a0 = procs.cpu_seconds(server.pid())
        proc, _ = run_client(f"127.0.0.1:{server.http_port}", 0, seconds, threads, seconds + 30)
        out, err = proc.communicate(timeout=seconds + 30)
        res = json.loads(out)
        client_cpu = children_cpu_s() - c0
        return {"requests_per_s": round(res["sent"] / res["elapsed_s"], 1),
                "client_cpu_pct": round(100 * client_cpu / res["elapsed_s"], 1),
                "atende_cpu_pct": round(100 * (procs.cpu_seconds(server.pid()) - a0) /
                                        res["elapsed_s"], 1),
                "lat_ms_p50": res["lat_ms_p50"], "lat_ms_p99": res["lat_ms_p99"],
                "threads": threads}
    finally:
        server.stop(timeout=30)


def placed_step(binary, tmp, flows_dir, config, kam, uas, rate, seconds, threads, to):
    server = start_atende(binary, tmp / f"placed_{rate}", flows_dir, config)
    try:
        requested = int(rate * seconds)
        idle = idle_cpu_pct(server)
        u0, k0, d0 = udp_errors(), kam_stats(kam), udp_drops()
        th0 = thread_cpu(server.pid())
        c_child0 = children_cpu_s()
        meter = Meter(atende=lambda: procs.cpu_seconds(server.pid()),
                      kamailio=lambda: group_cpu_seconds(kam.proc.pid),
                      sipp_uas=lambda: safe_cpu(uas.proc.pid)).start()
        proc, _ = run_client(f"127.0.0.1:{server.http_port}", rate, seconds, threads,
                             seconds + 30, to)
        out, err = proc.communicate(timeout=seconds + 30)
        client_cpu = children_cpu_s() - c_child0
        res = json.loads(out)
        t_sent = time.monotonic()
        wait_no_call_up(server, 20)
        meter.stop()
        th1 = thread_cpu(server.pid())
        calls, drained = wait_all_ended(server, len(res["ids"]), 20)
        answered, ok, reasons = outcome(calls)
        u1, k1, d1 = udp_errors(), kam_stats(kam), udp_drops()
        cpu = meter.cpu["atende"]
        pcts = meter.pct()
        pcts["client"] = round(100 * client_cpu / meter.elapsed, 1)
        return {
            "target_rate": rate, "requested": requested, "accepted_202": len(res["ids"]),
            "http_status": res["status"], "records": len(calls), "answered": answered,
            "ok": ok, "drained": drained,
            "placed_per_s": round(len(res["ids"]) / res["elapsed_s"], 1),
            "answered_per_s": round(answered / res["elapsed_s"], 1),
            "success_pct": round(100.0 * ok / requested, 2) if requested else 0.0,
            "failures": reasons,
            "window_s": round(meter.elapsed, 2), "send_s": round(res["elapsed_s"], 2),
            "drain_s": round(meter.elapsed - (t_sent - meter.t0), 2),
            "atende_cpu_ms_per_call": round(1000 * cpu / max(1, ok), 3),
            "atende_idle_cpu_pct": round(idle, 2),
            "atende_net_cpu_ms_per_call": round(
                1000 * (cpu - idle / 100 * meter.elapsed) / max(1, ok), 3),
            "cpu_pct": pcts,
            "client_cpu_ms_per_request": round(1000 * client_cpu / max(1, res["sent"]), 3),
            "post_lat_ms_p50": res["lat_ms_p50"], "post_lat_ms_p99": res["lat_ms_p99"],
            "client_late_ms_p99": res["late_ms_p99"],
            "atende_rss_mb": round(procs.rss_bytes(server.pid()) / 1e6, 1),
            "udp_rcvbuf_errors": u1["rcvbuf_errors"] - u0["rcvbuf_errors"],
            "udp_drops": drops_by(d0, d1, {"atende": server.sip_port, "kamailio": kam.port,
                                            "sipp_uas": uas.port}),
            "answer_ms": answer_ms(calls),
            "atende_threads_ms_per_call": thread_ms_per_call(th0, th1, ok),
            "kamailio": {k: k1.get(k, 0) - k0.get(k, 0) for k in k1},
            "atende_active_calls_after": active_calls(server),
            "loadavg_1m_after": os.getloadavg()[0],
        }
    finally:
        server.stop(timeout=30)


def inbound_step(binary, tmp, flows_dir, config, rate, seconds):
    workdir = tmp / f"inbound_{rate}"
    server = start_atende(binary, workdir, flows_dir, config)
    try:
        calls = int(rate * seconds)
        idle = idle_cpu_pct(server)
        d0 = udp_drops()
        th0 = thread_cpu(server.pid())
        c_child0 = children_cpu_s()
        meter = Meter(atende=lambda: procs.cpu_seconds(server.pid())).start()
        sipp = Sipp(UAC_SCENARIO, server.sip_target, workdir, service="quickbye", calls=calls,
                    rate=rate, limit=max(100, rate * 2), timeout_s=seconds + 30,
                    tag=f"uac_{rate}", trace_messages=False,
                    extra_args=["-rp", "1000", "-max_socket", "1000"])
        sipp.start()
        time.sleep(0.2)
        sipp_port = sipp.local_port
        result = sipp.wait()
        wait_no_call_up(server, 20)
        meter.stop()
        d1 = udp_drops()
        th1 = thread_cpu(server.pid())
        sipp_cpu = children_cpu_s() - c_child0
        cpu = meter.cpu["atende"]
        return {
            "target_rate": rate, "calls": calls, "successful": result.successful,
            "failed": result.failed, "sipp_exit": result.returncode,
            "achieved_cps": round(result.successful / meter.elapsed, 1),
            "success_pct": round(100.0 * result.successful / calls, 2) if calls else 0.0,
            "window_s": round(meter.elapsed, 2),
            "atende_cpu_ms_per_call": round(1000 * cpu / max(1, result.successful), 3),
            "atende_idle_cpu_pct": round(idle, 2),
            "atende_net_cpu_ms_per_call": round(
                1000 * (cpu - idle / 100 * meter.elapsed) / max(1, result.successful), 3),
            "cpu_pct": {"atende": round(100 * cpu / meter.elapsed, 1),
                        "sipp_uac": round(100 * sipp_cpu / meter.elapsed, 1)},
            "errors_tail": result.errors[-400:] if result.successful < calls else "",
            "udp_drops": drops_by(d0, d1, {"atende": server.sip_port, "sipp_uac": sipp_port}),
            "atende_threads_ms_per_call": thread_ms_per_call(th0, th1, result.successful),
            "loadavg_1m_after": os.getloadavg()[0],
        }
    finally:
        server.stop(timeout=30)


def thread_keys(res):
    keys = set()
    for s in res["steps"]:
        keys |= set(s["placed"].get("atende_threads_ms_per_call", {}))
        keys |= set(s.get("inbound", {}).get("atende_threads_ms_per_call", {}))
    return sorted(keys, key=lambda k: int(k.split()[0][1:]))


def markdown(res):
    m = res["machine"]
    c = res.get("client_ceiling", {})
    path = ("POST /api/calls -> SIPp UAS, no proxy" if res.get("direct") else
            "POST /api/calls -> Kamailio -> SIPp UAS")
    lines = [f"# Outbound call rate: placed ({path}) vs. "
             "inbound (SIPp UAC -> atende)", "",
             f"{m['when']}, {m['host']}, {m['cpus']} CPUs, kernel {m['kernel']}; load average "
             f"at start {res['loadavg_start']}; {res['seconds_per_step']:g} s per step, fresh "
             "atende per step, flow `quickbye` (answer, hang up at once) both ways; Kamailio "
             f"(children={res.get('kamailio_children', 2)}, maxbuffer "
             f"{res.get('kamailio_maxbuffer') or 'default'}, debug=1, -m {res['kamailio_shm_mb']} MB) and one SIPp UAS shared "
             "by all steps. Load client: "
             f"Python http.client keep-alive, {res['threads']} threads.", "",
             f"Load client ceiling (unpaced GET /healthz, {c.get('threads')} threads): "
             f"**{c.get('requests_per_s')}/s** at client CPU {c.get('client_cpu_pct')} % "
             f"(atende {c.get('atende_cpu_pct')} %).", "",
             "| rate/s | placed/s | success % | atende CPU ms/placed | atende ms/inbound | "
             "**ratio** | net of idle: ms/placed, ms/inbound, ratio | inbound success % | "
             "CPU % atende / kamailio / UAS / client (placed) | "
             "CPU % atende / UAC (inbound) | answer ms p50/p99 (placed) | UDP drops atende / "
             "kamailio / UAS (placed) | UDP drops atende (inbound) | POST p99 ms | load 1m | "
             "failures |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in res["steps"]:
        p, i = s["placed"], s.get("inbound", {})
        cp = p["cpu_pct"]
        ci = i.get("cpu_pct", {})
        fails = ", ".join(f"{k}: {v}" for k, v in list(p["failures"].items())[:3]) or "-"
        lines.append(
            f"| {s['target_rate']} | {p['placed_per_s']} | {p['success_pct']} | "
            f"{p['atende_cpu_ms_per_call']} | {i.get('atende_cpu_ms_per_call')} | "
            f"**{s.get('cpu_ratio')}** | {p['atende_net_cpu_ms_per_call']}, "
            f"{i.get('atende_net_cpu_ms_per_call')}, {s.get('net_cpu_ratio')} | "
            f"{i.get('success_pct')} | "
            f"{cp['atende']} / {cp['kamailio']} / {cp['sipp_uas']} / {cp['client']} | "
            f"{ci.get('atende')} / {ci.get('sipp_uac')} | {p['answer_ms']['p50']} / "
            f"{p['answer_ms']['p99']} | {p['udp_drops']['atende']} / "
            f"{p['udp_drops']['kamailio']} / {p['udp_drops']['sipp_uas']} | "
            f"{i.get('udp_drops', {}).get('atende')} | {p['post_lat_ms_p99']} | "
            f"{p['loadavg_1m_after']:.1f} | {fails} |")
    lines += ["", "atende's CPU ms per call by thread (placed / inbound; threads by creation "
              "order, most unnamed: see bench/README.md for which is which):", "",
              "| rate/s | " + " | ".join(f"thread {k}" for k in thread_keys(res)) + " |",
              "|---|" + "---|" * len(thread_keys(res))]
    for s in res["steps"]:
        p = s["placed"].get("atende_threads_ms_per_call", {})
        i = s.get("inbound", {}).get("atende_threads_ms_per_call", {})
        lines.append(f"| {s['target_rate']} | " + " | ".join(
            f"{p.get(k, 0)} / {i.get(k, 0)}" for k in thread_keys(res)) + " |")
    lines += ["", "*placed/s*: 202 answers / the client's send window. *success %*: records "
              "answered and hung up by the flow (`end_reason` local_bye) / requested. CPU ms "
              "per call: atende's utime+stime over the step (send + drain until no call is up "
              "(GET /metrics) + 0.3 s for the store's last commit, both steps alike; the "
              "records are read back after the window) / successful calls. *ratio* = placed / inbound CPU per call at the same "
              "rate (target <= 1.5). *net of idle*: minus atende's CPU at rest (measured 1 s "
              "before each step) over the same window. *answer ms*: the record's started_at -> "
              "answered_at (retransmissions after a lost datagram show here, T1 = 500 ms). "
              "*UDP drops*: datagrams the kernel dropped at that process's SIP socket because "
              "its receive buffer (212 KB default) was full. 100 % CPU = one core; the box has "
              "2 for everything."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir")
    ap.add_argument("--rates", default="100,250,500,1000")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--kamailio-shm-mb", type=int, default=256)
    ap.add_argument("--kamailio-children", type=int, default=4,
                    help="Kamailio's UDP worker processes (its receive queue overflowed at "
                         "1000 calls/s with 2)")
    ap.add_argument("--kamailio-maxbuffer", type=int, default=4 * 1024 * 1024,
                    help="the UDP receive buffer Kamailio asks for, bytes (0: its default, "
                         "256 KB; the kernel caps it at net.core.rmem_max)")
    ap.add_argument("--direct", action="store_true",
                    help="dial the UAS's sip: URI, no proxy (Kamailio idles); results "
                         "outbound_rate_direct.{json,md}")
    ap.add_argument("--name", help="results file name (default outbound_rate, "
                                   "outbound_rate_direct with --direct)")
    ap.add_argument("--to", default="1001", help=argparse.SUPPRESS)
    ap.add_argument("--client", help=argparse.SUPPRESS)  # child mode: host:port
    ap.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    bc.add_results_dir_arg(ap)
    args = ap.parse_args()
    if args.client:
        return client_main(args)
    build = bc.find_build_dir(args.build_dir).resolve()
    atende = build / "atende"
    if not bc.atende_usable(atende):
        raise SystemExit(f"{atende} cannot `serve`")
    name = args.name or ("outbound_rate_direct" if args.direct else "outbound_rate")
    res = {"machine": bc.machine(), "seconds_per_step": args.seconds, "threads": args.threads,
           "kamailio_shm_mb": args.kamailio_shm_mb, "direct": args.direct,
           "kamailio_children": args.kamailio_children,
           "kamailio_maxbuffer": args.kamailio_maxbuffer,
           "loadavg_start": round(os.getloadavg()[0], 2), "steps": []}
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = pathlib.Path(tmpname)
        flows = tmp / "flows"
        flows.mkdir()
        (flows / "quickbye.yaml").write_text(FLOW)
        total = int(sum(float(r) for r in args.rates.split(",")) * args.seconds) + 1000
        uas = SippUas(UAS_SCENARIO, tmp / "uas", calls=total, echo=False, ring_ms=0,
                      timeout_s=3600, trace_messages=False,
                      extra_args=["-max_socket", "1000"]).start()
        kam = BenchKamailio(tmp, downstream=("127.0.0.1", uas.port), tcp=False, debug=1,
                            shm_mb=args.kamailio_shm_mb, children=args.kamailio_children,
                            maxbuffer=args.kamailio_maxbuffer).start()
        try:
            config = write_config(
                tmp, api_tokens=[{"name": "bench", "token": TOKEN,
                                  "allow": ["1xxx", f"sip:1001@{uas.target}"],
                                  "rate_per_minute": 100000, "burst": 10000}],
                trunks=[trunk("carrier", kam, default=True)])
            res["client_ceiling"] = client_ceiling(atende, tmp, flows, config, args.threads)
            print("client", res["client_ceiling"], flush=True)
            for rate in (int(r) for r in args.rates.split(",")):
                step = {"target_rate": rate}
                to = f"sip:1001@{uas.target}" if args.direct else "1001"
                step["placed"] = placed_step(atende, tmp, flows, config, kam, uas, rate,
                                             args.seconds, args.threads, to)
                print("placed", {k: v for k, v in step["placed"].items()}, flush=True)
                step["inbound"] = inbound_step(atende, tmp, flows, config, rate, args.seconds)
                print("inbound", step["inbound"], flush=True)
                if step["inbound"]["successful"] and step["placed"]["ok"]:
                    step["cpu_ratio"] = round(step["placed"]["atende_cpu_ms_per_call"] /
                                              step["inbound"]["atende_cpu_ms_per_call"], 2)
                    net_i = step["inbound"]["atende_net_cpu_ms_per_call"]
                    if net_i > 0:
                        step["net_cpu_ratio"] = round(
                            step["placed"]["atende_net_cpu_ms_per_call"] / net_i, 2)
                res["steps"].append(step)
                bc.write_results(name, res, markdown(res), quiet=True,
                                 out=args.results_dir)
        finally:
            kam.stop()
            uas.stop()
    bc.write_results(name, res, markdown(res), out=args.results_dir)


if __name__ == "__main__":
    main()
