#!/usr/bin/env python3
"""GET /api/calls and GET /api/calls/{id} with 100,000 calls stored: latency per query shape
(first page, a deep page by `before`, each filter; the old deep `offset` for contrast),
against GET /healthz in the same run and on the same connection kind as the baseline.

The store is filled directly with SQLite (the schema comes from `atende db migrate`):
100,000 finished calls over 30 days, 8 flows, 6 outcomes, 80 % inbound, Brazilian numbers;
every fifth call has 6 events and every twentieth 4 agent turns with their stage times.
Then the server starts on that data dir with an API token (reads need it, as the console
sends it) and one keep-alive client asks each query in turn, round after round, so every
shape sees the same noise.

    bench/console_api.py --build-dir build [--calls 100000] [--rounds 300]
"""
import argparse
import http.client
import json
import pathlib
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

from bench_common import Server, add_results_dir_arg, find_build_dir, machine, write_results

TOKEN = "bench-console-0123456789abcdef"
FLOWS = ["ivr", "echo", "collections", "cobranca", "portaria", "gate_resident", "sales",
         "restaurante"]
OUTCOMES = ["caller hangup", "flow hangup", "no_answer", "busy", "rtp_timeout", "shutdown"]
DAY_MS = 86_400_000


def fill(db_path, n, seed=7):
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    start = now - 30 * DAY_MS
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA journal_mode=WAL")
    calls, events, turns = [], [], []
    for i in range(n):
        at = start + i * (30 * DAY_MS // n) + rng.randrange(1000)
        cid = f"c{at:011x}{i & 0xfffff:05x}"
        inbound = rng.random() < 0.8
        number = f"+55{rng.choice([11, 21, 31, 41, 51])}9{rng.randrange(10**8):08d}"
        flow = rng.choice(FLOWS)
        answered = rng.random() < 0.85
        ended = at + rng.randrange(5_000, 300_000)
        reason = rng.choice(OUTCOMES[:2]) if answered else rng.choice(OUTCOMES[2:])
        frm = f"sip:{number}@pbx.example.com" if inbound else "sip:atende@trunk.example.com"
        to = f"sip:{flow}@atende" if inbound else f"sip:{number}@trunk.example.com"
        calls.append((cid, "inbound" if inbound else "outbound", frm, to, "sip", flow, at,
                      at + 900 if answered else None, ended, reason, 200 if answered else 486,
                      "12" if i % 7 == 0 else "", cid))
        if i % 5 == 0:
            for k, kind in enumerate(["answered", "flow.step", "dtmf", "flow.step", "say",
                                      "hangup"]):
                events.append((cid, at + 1000 * (k + 1), kind, f"{kind} detail {k}"))
        if i % 20 == 0:
            for t in range(4):
                turns.append((cid, t, f"caller says something number {t}",
                               f"the agent answers with a sentence or two, turn {t}", 0, "",
                               300 + t, 650 + t, 900 + t, 1100 + t, 1150 + t))
    con.executemany("INSERT INTO calls (id, direction, from_uri, to_uri, leg_kind, flow, "
                    "started_at, answered_at, ended_at, end_reason, sip_status, digits, "
                    "session_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", calls)
    con.executemany("INSERT INTO call_events (call_id, at, kind, detail) VALUES (?,?,?,?)",
                    events)
    con.executemany("INSERT INTO call_turns (call_id, idx, user_text, agent_text, interrupted, "
                    "error, speech_end_ms, stt_final_ms, first_token_ms, first_audio_ms, "
                    "first_play_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)", turns)
    con.commit()
    con.close()
    # One inbound caller's number, as a console user would type it (URL-encoded '+').
    caller = next(c[2] for c in reversed(calls) if c[1] == "inbound")
    number = caller.removeprefix("sip:").split("@")[0].replace("+", "%2B")
    return [c[0] for c in calls], len(events), len(turns), number


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build-dir")
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--name", default="console_api")
    add_results_dir_arg(ap)
    args = ap.parse_args()
    build = find_build_dir(args.build_dir)
    binary = build / "atende"

    work = pathlib.Path(tempfile.mkdtemp(prefix="atende-bench-console-"))
    data = work / "data"
    data.mkdir()
    sqlite3.connect(data / "atende.db").close()  # an empty file: `db migrate` builds the schema
    subprocess.run([str(binary), "db", "migrate", "--data-dir", str(data)], check=True,
                   capture_output=True)
    t0 = time.monotonic()
    ids, n_events, n_turns, one_caller = fill(data / "atende.db", args.calls)
    fill_s = time.monotonic() - t0
    cfg = work / "bench.yaml"
    cfg.write_text("api_tokens: " + json.dumps([{"name": "bench", "token": TOKEN}]) + "\n")
    srv = Server("atende", binary, work / "server", data_dir=data,
                 extra_args=["--config", str(cfg)]).start()
    try:
        host, port = srv.http_base.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        deep = ids[len(ids) // 10]  # 90 % of the calls are newer: page ~90,000 rows deep
        detail_id = ids[(len(ids) - 1) // 20 * 20]  # i % 20 == 0: has events and turns
        week_ago = int(time.time() * 1000) - 7 * DAY_MS
        shapes = {
            "healthz (baseline)": "/healthz",
            "calls: first page": "/api/calls?limit=50",
            "calls: deep page by before": f"/api/calls?limit=50&before={deep}",
            "calls: deep page by offset (old)": "/api/calls?limit=50&offset=90000",
            "calls: flow": "/api/calls?limit=50&flow=portaria",
            "calls: flow, deep by before": f"/api/calls?limit=50&flow=portaria&before={deep}",
            "calls: outcome": "/api/calls?limit=50&outcome=rtp_timeout",
            "calls: direction": "/api/calls?limit=50&direction=outbound",
            "calls: number (one caller)": f"/api/calls?limit=50&number={one_caller}",
            "calls: number (broad, +5511)": "/api/calls?limit=50&number=%2B5511",
            "calls: since/until (a day)": f"/api/calls?limit=50&since={week_ago}"
                                          f"&until={week_ago + DAY_MS}",
            "calls: flow+outcome+direction": "/api/calls?limit=50&flow=ivr&outcome=busy"
                                             "&direction=inbound",
            "call detail (events, turns)": f"/api/calls/{detail_id}",
            "call detail (no events)": f"/api/calls/{ids[-2]}",
        }
        times = {k: [] for k in shapes}
        sizes = {}
        for shape, path in shapes.items():  # warm-up, and a sanity check of each answer
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                sys.exit(f"{shape}: {path} -> {r.status} {body[:200]!r}")
            sizes[shape] = len(body)
        for _ in range(args.rounds):
            for shape, path in shapes.items():
                t = time.perf_counter()
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                r.read()
                times[shape].append((time.perf_counter() - t) * 1000)
        with open("/proc/loadavg") as f:
            load = f.read().split()[:3]
    finally:
        srv.stop()

    base_p50 = statistics.median(times["healthz (baseline)"])
    rows = []
    for shape, path in shapes.items():
        ts = times[shape]
        rows.append({"shape": shape, "path": path, "p50_ms": round(statistics.median(ts), 3),
                     "p99_ms": round(percentile(ts, 99), 3), "max_ms": round(max(ts), 3),
                     "bytes": sizes[shape],
                     "p50_over_healthz": round(statistics.median(ts) / base_p50, 1)})
    result = {"machine": machine(), "load_average": load, "calls": args.calls,
              "events": n_events, "turns": n_turns, "rounds": args.rounds,
              "fill_seconds": round(fill_s, 1), "rows": rows}
    md = [f"# Console API reads with {args.calls:,} calls stored\n",
          f"`bench/console_api.py --calls {args.calls} --rounds {args.rounds}` on "
          f"{result['machine']['host']} ({result['machine']['cpus']} CPUs, load average "
          f"{' '.join(load)} at the end), {result['machine']['when']}. {n_events:,} events, "
          f"{n_turns:,} agent turns. One keep-alive client, token sent, every shape asked "
          f"once per round for {args.rounds} rounds; latency seen by the client (request "
          f"written to body read). Target: p99 < 50 ms.\n",
          "| query | p50 ms | p99 ms | max ms | bytes | p50 / healthz p50 |",
          "|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['shape']} | {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} | "
                  f"{r['bytes']} | {r['p50_over_healthz']} |")
    md.append("")
    write_results(args.name, result, "\n".join(md) + "\n", out=args.results_dir)


if __name__ == "__main__":
    main()
