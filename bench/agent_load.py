#!/usr/bin/python3
"""Agent load: N concurrent calls to the `sales` persona whose STT, LLM and TTS are the fake
OpenAI server (tests/fake_openai answering at once, run through bench/timed_fake_openai.py
for its own timings), driven by bench/loadgen_agent (C++, one
epoll thread): each caller waits for the agent to finish speaking, says an espeak-ng
utterance, sends silence until the answer has played, and does that --turns times.

Per turn, from atende's store (GET /api/calls/{id} turns), the fake's own request log
(CLOCK_MONOTONIC t_recv/t_done per request) and the generator, all in milliseconds:

  end_of_turn  = speech_end + 600 ms. speech_end is the last speech frame; the turn detector
                 ends the turn after end_silence (600 ms, the agent's default; the wait is a
                 turn-taking policy, not processing, so it is not counted).
  provider     = the fake's own time for the turn's three requests: transcription
                 (t_done - t_recv) + chat completion (whole stream: the one-sentence answer
                 is complete only at its end) + speech to its first audio bytes (t_first -
                 t_recv; a client that waits for the whole clip pays the rest itself).
  first_rtp    = when the answer's first loud packet reached the caller (the generator's
                 kernel receive timestamp, CLOCK_MONOTONIC).
  added        = first_rtp - end_of_turn - provider: the pipeline's own latency per turn
                 (target p50 < 5 ms, p99 < 20 ms). The server's stage times are offsets from
                 the agent's start, so end_of_turn is put on the shared clock through the STT
                 request: end_of_turn = fake's STT t_done - (stt_final - end_of_turn). That
                 is early by the transcript's way back to the media thread (~1 ms), so added
                 is that much too high, never too low. Split into
                 to_play = first_play - end_of_turn - provider (server clock: posting, HTTP
                 client, splitter, TTS client, queueing) and to_rtp = added - to_play (the
                 leg's wait for its send slot, packetisation, loopback).
  caller_response = the generator's first loud answer packet - its last loud speech packet:
                 what a caller waits (includes the 600 ms, the jitter buffer and VAD).

Also per step: server CPU % (utime+stime over the conversation, 100 % = one core), CPU ms per
turn and per call-second, RSS per call (after all calls heard the greeting, minus before),
media tick lateness (atende_media_tick_lateness_seconds), the generator's own lateness, the
load average. Baseline in the same run: the same generator against the `echo` flow (every
caller hears itself; same packets, no agent): CPU per call-second of media alone.

Usage: bench/agent_load.py [--build-dir DIR] [--calls 50,100,200] [--turns 5]
                           [--no-baseline] [--keep-going] [--results-dir DIR]
Results: bench/results/agent_load.{json,md} (or in --results-dir). Every process is bounded by a timeout.
"""
import argparse
import json
import math
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import bench_common as bc
from echo_load import GENERATOR_PREFIX  # SCHED_FIFO for the generator when allowed
from harness import audio, http_api

END_SILENCE_MS = 600  # agent::TurnConfig::end_silence (personas do not override it)
RTP_PORTS = (10000, 19999)  # below the kernel's ephemeral range, where loadgen binds
SAID = "I would like to hear more about it"
ADDED_P50_LIMIT_MS, ADDED_P99_LIMIT_MS = 5.0, 20.0
PERF_DELAY_S = None  # --perf-delay
ZERO = {"t_recv": 0.0, "ms": 0.0, "whole_ms": 0.0}  # no provider time (embedded engine)


def pct(values, q):
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, int(math.ceil(q * len(v))) - 1 if q > 0 else 0)], 2)


def stats(values):
    return {"n": len(values), "p50": pct(values, 0.5), "p90": pct(values, 0.9),
            "p99": pct(values, 0.99), "max": round(max(values), 2) if values else None,
            "mean": round(sum(values) / len(values), 2) if values else None}


class Fake:
    def __init__(self, workdir):
        self.log = open(workdir / "fake_openai.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(bc.BENCH_DIR / "timed_fake_openai.py"), "--port",
             "0", "--exit-on-stdin-eof"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"fake_openai did not start: {line!r}")
        self.base = f"http://127.0.0.1:{int(line.split()[1])}"

    def post(self, path, obj):
        req = urllib.request.Request(self.base + path, data=json.dumps(obj).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=30).read()

    def requests(self):
        return json.loads(urllib.request.urlopen(self.base + "/control/requests",
                                                 timeout=60).read())

    def pid(self):
        return self.proc.pid

    def stop(self):
        self.proc.stdin.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def cpu_seconds(pid):
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def histogram_quantile(metrics_text, name, q):
    """Upper bound (s) of the bucket holding quantile q of a Prometheus histogram, summed over
    labels; None if absent or empty."""
    buckets = {}
    for line in metrics_text.splitlines():
        if not line.startswith(name + "_bucket"):
            continue
        try:
            le = line.split('le="', 1)[1].split('"', 1)[0]
            value = float(line.rsplit(" ", 1)[1])
        except (IndexError, ValueError):
            continue
        bound = math.inf if le == "+Inf" else float(le)
        buckets[bound] = buckets.get(bound, 0) + value
    if not buckets or buckets.get(math.inf, 0) == 0:
        return None
    total = buckets[math.inf]
    for bound in sorted(buckets):
        if buckets[bound] >= q * total:
            return bound
    return None


def start_perf(pid, delay_s, seconds, out):
    """perf record -g of the server for `seconds`, starting `delay_s` from now (once the
    calls are talking), in the background. Returns the Popen, or None without perf."""
    try:
        return subprocess.Popen(["sh", "-c", f"sleep {delay_s}; exec perf record -g -F 499 "
                                 f"-p {pid} -o {out} -- sleep {seconds}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return None


def perf_summary(data, out_txt):
    """The hottest symbols (self time) and the hottest call chains by caller, as text."""
    try:
        flat = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children",
                               "--sort", "dso,sym", "-g", "none", "--percent-limit", "0.7"],
                              capture_output=True, text=True, timeout=120).stdout
        by_thread = subprocess.run(["perf", "report", "-i", str(data), "--stdio",
                                    "--no-children", "--sort", "comm", "-g", "none"],
                                   capture_output=True, text=True, timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"perf report failed: {e}"
    keep = lambda text: "\n".join(l for l in text.splitlines() if l and not l.startswith("#"))
    text = ("## by thread\n" + keep(by_thread) + "\n\n## by symbol (self)\n" + keep(flat) +
            "\n")
    out_txt.write_text(text)
    return text


def histogram_buckets(metrics_text, name):
    """{upper bound: cumulative count} of a Prometheus histogram, summed over labels."""
    out = {}
    for line in metrics_text.splitlines():
        if line.startswith(name + "_bucket"):
            try:
                le = line.split('le="', 1)[1].split('"', 1)[0]
                out[le] = out.get(le, 0) + float(line.rsplit(" ", 1)[1])
            except (IndexError, ValueError):
                continue
    return out


def media_health(metrics):
    """Media worker tick lateness and work per tick slot (p99 = bucket bound) and buckets."""
    out = {}
    for key, name in (("tick_lateness", "atende_media_tick_lateness_seconds"),
                      ("tick_work", "atende_media_tick_work_seconds")):
        q = histogram_quantile(metrics, name, 0.99)
        out[f"{key}_p99_ms"] = None if q is None else round(q * 1000, 3)
        out[f"{key}_buckets"] = histogram_buckets(metrics, name)
    return out


def run_loadgen(build, target, service, calls, turns, speech, pid, max_seconds):
    cmd = [*GENERATOR_PREFIX, str(build / "bench" / "loadgen_agent"), "--sip", target, "--service", service,
           "--calls", str(calls), "--turns", str(turns), "--speech", str(speech),
           "--server-pid", str(pid), "--setup-rate", "50", "--max-seconds", str(max_seconds)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=max_seconds + 60)
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise RuntimeError(f"loadgen_agent failed ({out.returncode}): {out.stderr[-2000:]}")
    result = json.loads(lines[-1])
    result["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    return result


def fetch_calls(base, expected):
    """Every call record with its turns, by the generator's caller name (from_uri lgN@)."""
    http_api.wait_calls(base, lambda cs: len(cs) >= expected and all(c.get("ended_at") for c in cs),
                        timeout=30)
    listed = http_api.get_json(base + f"/api/calls?limit={min(1000, expected + 50)}")
    by_user = {}
    for c in listed:
        full = http_api.get_json(base + "/api/calls/" + urllib.request.quote(c["id"], safe=""))
        user = (full.get("from") or "").split("sip:", 1)[-1].split("@", 1)[0]
        by_user[user] = full
    return by_user


def provider_index(requests):
    """Fake requests by the text that identifies their turn: transcriptions by the answer
    they got, chats by the last user message, speech by its input."""
    stt, chat, tts = {}, {}, {}
    for r in requests:
        if r.get("t_done") is None:
            continue
        took = (r["t_done"] - r["t_recv"]) * 1000.0
        item = {"t_recv": r["t_recv"], "t_done": r["t_done"], "ms": took, "whole_ms": took}
        if r["path"] == "/v1/audio/speech" and r.get("t_first") is not None:
            # Time to the first audio bytes: what a streaming TTS client waits for. A
            # client that waits for the whole clip pays the rest as pipeline time.
            item["ms"] = (r["t_first"] - r["t_recv"]) * 1000.0
        if r["path"] == "/v1/audio/transcriptions" and r.get("answer_text"):
            stt[r["answer_text"]] = item
        elif r["path"] == "/v1/chat/completions":
            msgs = r.get("json", {}).get("messages", [])
            if msgs and msgs[-1].get("role") == "user":
                chat[msgs[-1].get("content")] = item
        elif r["path"] == "/v1/audio/speech":
            tts.setdefault(r.get("json", {}).get("input"), item)
    return stt, chat, tts


def analyse_turns(gen, calls, fake_requests, tts_engine="http"):
    """Per-turn latency rows. With tts_engine "espeak" synthesis is embedded: part of the
    pipeline, not provider time."""
    stt, chat, tts = provider_index(fake_requests)
    rows, problems = [], {"no_record": 0, "turn_count_mismatch": 0, "error_turns": 0,
                          "missing_stage": 0, "no_provider_match": 0, "no_answer_rtp": 0}
    errors = {}
    for c in gen["per_call"]:
        record = calls.get(c["user"])
        if record is None:
            problems["no_record"] += 1
            continue
        turns = [t for t in record.get("turns", []) if t["index"] >= 1]
        if len(turns) != len(c["turns"]):
            problems["turn_count_mismatch"] += 1
        for k, t in enumerate(turns):
            if t.get("error"):
                problems["error_turns"] += 1
                errors[t["error"]] = errors.get(t["error"], 0) + 1
                continue
            stages = [t.get(s) for s in ("speech_end_ms", "stt_final_ms", "first_token_ms",
                                          "first_audio_ms", "first_play_ms")]
            if any(s is None for s in stages):
                problems["missing_stage"] += 1
                continue
            speech_end, stt_final, first_token, first_audio, first_play = stages
            p_stt = stt.get(t["user_text"])
            p_llm = chat.get(t["user_text"])
            p_tts = tts.get(t["agent_text"]) if tts_engine == "http" else ZERO
            if p_tts is None:  # the answer may have been split into several sentences
                p_tts = min((v for k2, v in tts.items() if k2 and k2 in t["agent_text"]),
                            key=lambda v: v["t_recv"], default=None)
            if not (p_stt and p_llm and p_tts):
                problems["no_provider_match"] += 1
                continue
            eot = speech_end + END_SILENCE_MS
            provider = p_stt["ms"] + p_llm["ms"] + p_tts["ms"]
            to_play = first_play - eot - provider
            row = {"call": c["user"], "turn": t["index"], "speech_end_ms": speech_end,
                   "stt_recv_s": round(p_stt["t_recv"], 4),
                   "provider_ms": round(provider, 2),
                   "stt_ms": round(p_stt["ms"], 2), "llm_ms": round(p_llm["ms"], 2),
                   "tts_ms": round(p_tts["ms"], 2),
                   "tts_whole_ms": round(p_tts["whole_ms"], 2),
                   "stt_overhead_ms": round(stt_final - eot - p_stt["ms"], 2),
                   "llm_overhead_ms": round(first_token - stt_final - p_llm["ms"], 2),
                   "tts_overhead_ms": round(first_audio - first_token - p_tts["ms"], 2),
                   "play_ms": first_play - first_audio,
                   "to_play_ms": round(to_play, 2)}
            if k < len(c["turns"]):
                speech_end_ns, answer_ns = c["turns"][k]
                if answer_ns:
                    row["caller_response_ms"] = round((answer_ns - speech_end_ns) / 1e6, 2)
                    # End of turn on the shared clock, through the STT request (see top).
                    eot_s = p_stt["t_done"] - (stt_final - eot) / 1000.0
                    added = (answer_ns / 1e9 - eot_s) * 1000.0 - provider
                    row["added_ms"] = round(added, 2)
                    row["to_rtp_ms"] = round(added - to_play, 2)
                    # Wire check on one clock (monotonic ns of the generator, s of the fake):
                    # from the STT request reaching the provider to the caller's first packet.
                    row["wire_stt_to_rtp_minus_provider_ms"] = round(
                        (answer_ns / 1e9 - p_stt["t_recv"]) * 1000.0 - provider, 2)
                else:
                    problems["no_answer_rtp"] += 1
            rows.append(row)
    return rows, problems, errors


def summarise(rows):
    keys = ["added_ms", "to_play_ms", "to_rtp_ms", "provider_ms", "stt_ms", "llm_ms",
            "tts_ms", "tts_whole_ms", "stt_overhead_ms", "llm_overhead_ms", "tts_overhead_ms", "play_ms",
            "caller_response_ms", "wire_stt_to_rtp_minus_provider_ms"]
    return {k: stats([r[k] for r in rows if k in r]) for k in keys}


def renice(pid, nice):
    """Sets the nice value of every thread of `pid` (Linux nice is per thread; threads made
    later inherit their creator's). Returns how many threads were changed."""
    changed = 0
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            os.setpriority(os.PRIO_PROCESS, int(task.name), nice)
            changed += 1
        except (OSError, ValueError):
            pass
    return changed


def isolated_inputs(workdir):
    """Only the flows and the persona this benchmark uses, copied: a flow or persona being
    written elsewhere in the tree (with keys this build does not know) must not stop the
    server from starting."""
    flows, personas = workdir / "flows", workdir / "personas"
    flows.mkdir(parents=True, exist_ok=True)
    personas.mkdir(parents=True, exist_ok=True)
    for name in ("echo.yaml", "ivr.yaml"):
        shutil.copy(bc.SOURCE_DIR / "flows" / name, flows / name)
    shutil.copy(bc.SOURCE_DIR / "personas" / "vendas.yaml", personas / "vendas.yaml")
    return flows, personas


def start_server(build, workdir, calls, extra_args):
    """atende on fresh free ports; retried, because a port found free can be taken by
    another process (other helpers' servers and tests) before atende binds it."""
    flows, _ = isolated_inputs(workdir)
    extra_args = ["--flows-dir", str(flows), *extra_args]
    for attempt in range(3):
        server = bc.Server("atende", build / "atende", workdir / f"try{attempt}",
                           max_calls=calls + 50, extra_args=extra_args)
        server.rtp_range = RTP_PORTS
        try:
            return server.start()
        except AssertionError as e:
            if attempt == 2:
                raise
            print(f"atende did not start (retrying on other ports): {str(e)[-300:]}",
                  file=sys.stderr)


def write_config(workdir, fake, tts):
    cfg = workdir / "agent.yaml"
    _, personas = isolated_inputs(workdir)
    text = (f"personas_dir: {personas}\n"
            f"llm_base_url: {fake.base}\nllm_model: fake-model\n"
            f"stt_engine: http\nstt_base_url: {fake.base}\n")
    text += f"tts_engine: http\ntts_base_url: {fake.base}\n" if tts == "http" else \
        "tts_engine: espeak\n"
    cfg.write_text(text)
    return cfg


def bench_agent(build, calls, turns, speech, workdir, max_seconds, perf_seconds=0,
                tts="http", server_nice=0, results_dir=bc.RESULTS_DIR):
    workdir.mkdir(parents=True, exist_ok=True)
    fake = Fake(workdir)
    server = None
    try:
        # One distinct transcript per turn, so each turn's three requests can be found in
        # the fake's log (the chat echoes it: "You said: caller turn 17.", which is spoken).
        fake.post("/control/script", {"transcriptions": [
            {"text": f"caller turn {i}"} for i in range(calls * (turns + 3))]})
        server = start_server(build, workdir / "atende", calls,
                              ["--config", str(write_config(workdir, fake, tts)),
                               "--log-level", "warn"])
        if server_nice:
            # On a machine shared with others' compilers: approximate a dedicated one.
            renice(server.pid(), server_nice)
            renice(fake.pid(), server_nice)
        fake_cpu0 = cpu_seconds(fake.pid())
        perf = (start_perf(server.pid(), PERF_DELAY_S if PERF_DELAY_S is not None
                           else 5 + calls / 50, perf_seconds, workdir / "perf.data")
                if perf_seconds else None)
        gen = run_loadgen(build, server.sip_target, "sales", calls, turns, speech, server.pid(),
                          max_seconds)
        fake_cpu1 = cpu_seconds(fake.pid())
        metrics = http_api.get_text(server.http_base + "/metrics")
        records = fetch_calls(server.http_base, gen["established"])
        requests = fake.requests()
        rows, problems, errors = analyse_turns(gen, records, requests, tts)
        result = {k: v for k, v in gen.items() if k != "per_call"}
        result["turn_rows"] = rows
        result["problems"] = problems
        result["turn_errors"] = errors
        result["latency"] = summarise(rows)
        if perf is not None:
            perf.wait(timeout=60)
            report = results_dir / f"agent_load_perf_{calls}.txt"
            perf_summary(workdir / "perf.data", report)
            result["perf_report"] = os.path.relpath(report, bc.BENCH_DIR)
        result["fake_cpu_pct"] = (round(100 * (fake_cpu1 - fake_cpu0) / gen["window_s"], 1)
                                  if fake_cpu0 is not None and fake_cpu1 is not None else None)
        result.update(media_health(metrics))
        answered = len(rows)
        if answered and gen.get("server_cpu_s") is not None:
            result["server_cpu_ms_per_turn"] = round(1000 * gen["server_cpu_s"] / answered, 2)
        if gen.get("server_cpu_s") is not None and gen["established"]:
            result["server_cpu_ms_per_call_second"] = round(
                1000 * gen["server_cpu_s"] / (gen["established"] * gen["window_s"]), 3)
        if gen.get("server_rss_greeted_kb") and gen["established"]:
            result["rss_kb_per_call"] = round(
                (gen["server_rss_greeted_kb"] - gen["server_rss_before_kb"]) / gen["established"],
                1)
        if gen["established"] < calls:
            result["server_log_tail"] = server.log_tail(20)
        return result
    finally:
        if server is not None:
            server.stop(timeout=40)
        fake.stop()


def bench_echo(build, calls, turns, speech, workdir, max_seconds, server_nice=0):
    """The same callers against the echo flow: media and SIP alone, no agent."""
    server = start_server(build, workdir / "echo", calls, ["--log-level", "warn"])
    if server_nice:
        renice(server.pid(), server_nice)
    try:
        gen = run_loadgen(build, server.sip_target, "echo", calls, turns, speech, server.pid(),
                          max_seconds)
        result = {k: v for k, v in gen.items() if k != "per_call"}
        result.update(media_health(http_api.get_text(server.http_base + "/metrics")))
        if gen.get("server_cpu_s") is not None and gen["established"]:
            result["server_cpu_ms_per_call_second"] = round(
                1000 * gen["server_cpu_s"] / (gen["established"] * gen["window_s"]), 3)
        if gen.get("server_rss_greeted_kb") and gen["established"]:
            result["rss_kb_per_call"] = round(
                (gen["server_rss_greeted_kb"] - gen["server_rss_before_kb"]) / gen["established"],
                1)
        return result
    finally:
        server.stop(timeout=40)


def misses(r, calls, turns):
    why = []
    if r["established"] < calls:
        why.append(f"{calls - r['established']} calls not set up {r['fail_codes'][:5]}")
    expected = r["established"] * turns
    measured = len(r["turn_rows"])
    if measured < 0.99 * expected:
        why.append(f"only {measured}/{expected} turns answered and measured "
                   f"({r['problems']}, errors {r['turn_errors']})")
    added = r["latency"]["added_ms"]
    if added["p50"] is None or added["p50"] >= ADDED_P50_LIMIT_MS:
        why.append(f"added p50 {added['p50']} ms >= {ADDED_P50_LIMIT_MS}")
    if added["p99"] is None or added["p99"] >= ADDED_P99_LIMIT_MS:
        why.append(f"added p99 {added['p99']} ms >= {ADDED_P99_LIMIT_MS}")
    return why


def fmt(v):
    return "-" if v is None else f"{v:g}" if isinstance(v, (int, float)) else str(v)


def markdown(results):
    m = results["machine"]
    lines = ["# Agent load: concurrent persona calls against instant fake providers", "",
             f"{m['when']}, {m['host']}, {m['cpus']} CPUs, kernel {m['kernel']}; "
             f"{results['turns']} caller turns per call, utterance \"{SAID}\" (espeak-ng, "
             "8 kHz PCMU), generator bench/loadgen_agent, providers tests/fake_openai "
             "(Python, same machine) for STT and LLM; TTS: "
             + ("the fake over HTTP" if results.get("tts", "http") == "http" else
                "embedded espeak-ng (its synthesis time counts as pipeline time)")
             + ". Load average after each step in the table"
             + (f"; atende and the fake ran at nice {results['server_nice']} (the machine "
                "is shared with other engineers' compilers)" if results.get("server_nice")
                else "; every process at normal priority except the generator (SCHED_FIFO)")
             + ".", "",
             "## Pipeline latency per turn (ms)", "",
             "| calls | turns measured | added p50 | added p99 | added max | to_play p50 | "
             "to_play p99 | to_rtp p50 | provider p50 | provider p99 | caller response p50 | "
             "p99 | verdict |", "|---" * 13 + "|"]
    for s in results["steps"]:
        a = s.get("agent")
        if not a:
            continue
        L = a["latency"]
        verdict = "; ".join(a.get("misses", [])) or "ok"
        lines.append("| " + " | ".join(fmt(x) for x in [
            s["calls"], a["turns_measured"], L["added_ms"]["p50"], L["added_ms"]["p99"],
            L["added_ms"]["max"], L["to_play_ms"]["p50"], L["to_play_ms"]["p99"],
            L["to_rtp_ms"]["p50"], L["provider_ms"]["p50"], L["provider_ms"]["p99"],
            L["caller_response_ms"]["p50"], L["caller_response_ms"]["p99"]]) + f" | {verdict} |")
    lines += ["", "Stage overheads beyond the provider's own time, p50 / p99 (ms):", "",
              "| calls | STT (end of turn -> transcript) | LLM (transcript -> first token) | "
              "TTS (first token -> clip) | clip -> leg | fake's own STT / LLM / TTS p50 |",
              "|---|---|---|---|---|---|"]
    for s in results["steps"]:
        a = s.get("agent")
        if not a:
            continue
        L = a["latency"]
        lines.append(f"| {s['calls']} | {fmt(L['stt_overhead_ms']['p50'])} / "
                     f"{fmt(L['stt_overhead_ms']['p99'])} | {fmt(L['llm_overhead_ms']['p50'])} / "
                     f"{fmt(L['llm_overhead_ms']['p99'])} | {fmt(L['tts_overhead_ms']['p50'])} / "
                     f"{fmt(L['tts_overhead_ms']['p99'])} | {fmt(L['play_ms']['p50'])} / "
                     f"{fmt(L['play_ms']['p99'])} | {fmt(L['stt_ms']['p50'])} / "
                     f"{fmt(L['llm_ms']['p50'])} / {fmt(L['tts_ms']['p50'])} |")
    lines += ["", "## CPU and memory", "",
              "| calls | server | established | server CPU % | CPU ms / turn | CPU ms per "
              "call-second | RSS KB / call | tick lateness p99 ms | tick work p99 ms | fake CPU % | "
              "gen CPU % | gen late p99 ms | load 1m |", "|---" * 13 + "|"]
    for s in results["steps"]:
        for label in ("agent", "echo"):
            r = s.get(label)
            if not r:
                continue
            lines.append("| " + " | ".join(fmt(x) for x in [
                s["calls"], "agent (sales)" if label == "agent" else "echo (baseline)",
                r["established"], r.get("server_cpu_pct"), r.get("server_cpu_ms_per_turn"),
                r.get("server_cpu_ms_per_call_second"), r.get("rss_kb_per_call"),
                r.get("tick_lateness_p99_ms"), r.get("tick_work_p99_ms"), r.get("fake_cpu_pct"),
                r.get("loadgen_cpu_pct"),
                r.get("send_late_p99_ms"), r.get("loadavg_1m_after")]) + " |")
        if s.get("agent_cpu_ratio") is not None:
            lines.append(f"| {s['calls']} | ratio agent/echo CPU per call-second | | "
                         f"**{s['agent_cpu_ratio']}** | | | | | | | | | |")
    lines += ["", "## Definitions", "",
              "- *end_of_turn* = `speech_end_ms` + 600 ms (the turn detector's end_silence: a "
              "policy wait, not processing). Stage times come from the call store "
              "(`GET /api/calls/{id}` turns, whole ms).",
              "- *provider* = the fake's own handling time for the turn's three requests "
              "(`t_done - t_recv` on CLOCK_MONOTONIC, from its request log): transcription + "
              "chat completion (whole stream: the answer is one sentence, complete only at "
              "its end) + speech to its first audio bytes (`t_first - t_recv`; if the agent "
              "waits for the whole clip, the rest of the transfer counts as pipeline time). "
              "The fake runs as bench/timed_fake_openai.py (the test fake plus these "
              "timings). Matched to the turn by a unique transcript "
              "(\"caller turn N\").",
              "- *added* = first RTP at the caller - end_of_turn - provider. First RTP: the "
              "generator's kernel receive time of the answer's first loud packet "
              "(CLOCK_MONOTONIC, the fake's clock too). end_of_turn on that clock = the fake's "
              "STT `t_done` - (`stt_final_ms` - end_of_turn): early by the transcript's way "
              "back (~1 ms), so *added* errs high. *to_play* (server clock) = first_play - "
              "end_of_turn - provider: thread hops, the HTTP client (libcurl, upload, "
              "parsing), the sentence splitter, the TTS client, the media thread's queue. "
              "*to_rtp* = added - to_play: from handing the audio to the leg to the caller's "
              "first packet (send slot, packetisation, loopback).",
              "- *caller response* = generator: first loud answer packet received - last loud "
              "speech packet sent. It includes the 600 ms end_silence, the jitter buffer and "
              "the VAD's decision, so it is ~600-700 ms even at zero pipeline cost.",
              "- *wire check* (JSON `wire_stt_to_rtp_minus_provider_ms`): generator's answer "
              "arrival - the fake's STT t_recv - provider, on one clock: the pipeline after the "
              "STT request reached the provider.",
              "- CPU: utime+stime of atende from the first INVITE to the first BYE (100 % = one "
              "core); per turn = that / turns measured; per call-second = that / (calls x "
              "seconds). The echo row is the same generator against the `echo` flow (callers "
              "hear themselves: same RTP both ways, no agent): the media/SIP floor.",
              "- RSS per call = (atende RSS once every call is up and has heard its greeting - "
              "RSS before the first call) / calls."]
    if results.get("summary"):
        lines += ["", "## Summary", "", results["summary"]]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir")
    ap.add_argument("--calls", default="50,100,200")
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--max-seconds", type=float, default=150)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--keep-going", action="store_true")
    ap.add_argument("--tts", choices=("http", "espeak"), default="http",
                    help="the persona's TTS: the fake over HTTP (provider time subtracted) or "
                         "embedded espeak-ng (synthesis counted as pipeline)")
    ap.add_argument("--server-nice", type=int, default=0,
                    help="nice value for atende and the fake (e.g. -10 on a machine shared "
                         "with compilers: approximates a dedicated one; needs root)")
    ap.add_argument("--perf-delay", type=float,
                    help="seconds after the first INVITE to start perf (default: once all "
                         "calls are set up)")
    ap.add_argument("--rows-out", help="also write every turn's row to ROWS_OUT.<calls>.json")
    ap.add_argument("--name", default="agent_load",
                    help="results file name (e.g. agent_load_explore for a longer ramp)")
    ap.add_argument("--perf-seconds", type=float, default=0,
                    help="perf record -g the server this long per agent step (once the calls "
                         "talk); summary in results/agent_load_perf_<calls>.txt")
    bc.add_results_dir_arg(ap)
    args = ap.parse_args()
    global PERF_DELAY_S
    PERF_DELAY_S = args.perf_delay
    build = bc.find_build_dir(args.build_dir)
    if not bc.atende_usable(build / "atende"):
        raise SystemExit(f"{build / 'atende'} cannot `serve`")
    if not (build / "bench" / "loadgen_agent").exists():
        raise SystemExit(f"{build / 'bench' / 'loadgen_agent'} is missing: build it")
    results = {"machine": bc.machine(), "turns": args.turns, "said": SAID, "tts": args.tts,
               "server_nice": args.server_nice,
               "steps": [],
               "limits": {"added_p50_ms": ADDED_P50_LIMIT_MS, "added_p99_ms": ADDED_P99_LIMIT_MS},
               "loadavg_before": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        speech = audio.make_speech_wav(SAID, tmp / "said.wav", pad_before_s=0.3)
        for calls in (int(c) for c in args.calls.split(",")):
            step = {"calls": calls}
            agent = bench_agent(build, calls, args.turns, speech, tmp / f"agent_{calls}",
                                args.max_seconds, args.perf_seconds, args.tts,
                                args.server_nice, args.results_dir)
            agent["misses"] = misses(agent, calls, args.turns)
            if args.rows_out:  # every turn, for digging into a tail
                pathlib.Path(f"{args.rows_out}.{calls}.json").write_text(
                    json.dumps(agent["turn_rows"]))
            # Keep the results file small: summaries, and a few turns as examples.
            agent["turns_measured"] = len(agent["turn_rows"])
            agent["turn_rows_sample"] = agent.pop("turn_rows")[:: max(1, calls)][:10]
            step["agent"] = agent
            print("agent", calls, {k: v for k, v in agent.items()
                                   if k != "turn_rows_sample"},
                  flush=True)
            if not args.no_baseline:
                step["echo"] = bench_echo(build, calls, args.turns, speech, tmp / f"echo_{calls}",
                                          args.max_seconds, args.server_nice)
                print("echo", calls, step["echo"], flush=True)
                a = agent.get("server_cpu_ms_per_call_second")
                e = step["echo"].get("server_cpu_ms_per_call_second")
                if a and e:
                    step["agent_cpu_ratio"] = round(a / e, 2)
            results["steps"].append(step)
            bc.write_results(args.name, results, markdown(results), quiet=True,
                             out=args.results_dir)
            if agent["established"] < calls or (agent["misses"] and not args.keep_going):
                break
    bc.write_results(args.name, results, markdown(results), out=args.results_dir)


if __name__ == "__main__":
    main()
