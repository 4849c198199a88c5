#!/usr/bin/python3
"""Menu response: what a caller of a spoken IVR menu waits from their last word to the menu's
answer, measured on the caller's side of the wire, with the flow's speculative recognition
(the default: the answer is recognised from the first 200 ms pause and a matched option ends
the turn 200 ms after the last word) against the same flow with `speculative: false` (the
baseline: 600 ms of silence, then recognition), in one run.

Callers are bench/loadgen_agent (real SIP + RTP, espeak-ng "operator" as PCMU). The recogniser
is the embedded one (pocketsphinx, grammar mode): nothing is faked. The flow answers a choice
with "Operator, one moment." and asks again, so every call takes `--turns` turns.

Per step (calls x mode), from the generator (CLOCK_MONOTONIC, kernel receive timestamps) and
the call store:
  caller wait   first loud answer packet received - last loud speech packet sent;
  taken as said turns the store says were taken as the option said (choice events), of the
                turns the callers took: a faster turn must not be a wrong or a lost one.

Usage: bench/menu_response.py [--build-dir DIR] [--calls 1,50,200] [--turns 4]
                              [--results-dir DIR]
Results: bench/results/menu_response.{json,md}.
"""
import argparse
import json
import os
import pathlib
import shutil
import sys
import tempfile

import bench_common as bc
import agent_load as al
from harness import audio

# The word the embedded recogniser takes best from this generator's audio (espeak-ng sent as
# u-law): "sales" and "support" alone are often misheard or rejected as close calls here
# (bench/results/grammar_accuracy.md); the bench measures the wait, not the accuracy.
SAID = "operator"
MENU = """name: {name}
speculative: {speculative}
voice: {{name: en-us, rate: 165}}
start: menu
steps:
  menu:
    type: menu
    prompt: "Say sales, support or operator."
    timeout: 30s
    retries: 10
    choices:
      "1": {{next: sales, say: [sales]}}
      "2": {{next: support, say: [support]}}
      "0": {{next: operator, say: [operator]}}
    on_failure: bye
  sales:
    type: say
    text: "Sales, one moment."
    next: menu
  support:
    type: say
    text: "Support, one moment."
    next: menu
  operator:
    type: say
    text: "Operator, one moment."
    next: menu
  bye:
    type: hangup
"""
MODES = {"on": ("menu_spec", "true"), "off": ("menu_base", "false")}


def run_step(build, tmp, calls, turns, mode, wav):
    work = tmp / f"{mode}_{calls}"
    flows, _ = al.isolated_inputs(work / "atende")  # where start_server looks
    name, spec = MODES[mode]
    (flows / f"{name}.yaml").write_text(MENU.format(name=name, speculative=spec))
    server = al.start_server(build, work / "atende", calls, ["--log-level", "warn"])
    try:
        gen = al.run_loadgen(build, server.sip_target, name, calls, turns, wav, server.pid(), 240)
        records = al.fetch_calls(server.http_base, gen["established"])
    finally:
        server.stop(timeout=40)
    waits, taken, asked = [], 0, 0
    for c in gen["per_call"]:
        for speech_end_ns, answer_ns in c["turns"]:
            asked += 1
            if answer_ns:
                waits.append((answer_ns - speech_end_ns) / 1e6)
        record = records.get(c["user"]) or {}
        taken += sum(1 for e in record.get("events", [])
                     if e.get("kind") == "choice" and e.get("detail", "").endswith(SAID))
    return {"calls": calls, "speculative": mode, "established": gen["established"],
            "turns": asked, "choices_taken": taken, "caller_wait_ms": al.stats(waits),
            "server_cpu_s": gen.get("server_cpu_s"), "loadavg_1m": round(os.getloadavg()[0], 2)}


def markdown(res):
    m = res["machine"]
    lines = ["# Menu response: the caller's wait after a spoken menu choice, speculative "
             "recognition on vs off", "",
             f"{m['when']}, {m['host']}, {m['cpus']} CPUs, kernel {m['kernel']}; "
             f"{res['turns']} turns per call (\"{SAID}\", espeak-ng); generator "
             "bench/loadgen_agent (SIP + PCMU RTP); the embedded recogniser (pocketsphinx, "
             "grammar). Each row a fresh atende; `on` and `off` are the same menu with "
             "`speculative: true/false`.", "",
             "| calls | speculative | turns | taken as said | caller wait p50 ms | p90 | "
             "p99 | max | server CPU s | load 1m |", "|---" * 10 + "|"]
    for r in res["steps"]:
        w = r["caller_wait_ms"]
        lines.append("| " + " | ".join(str(x) for x in [
            r["calls"], r["speculative"], r["turns"], r["choices_taken"], w["p50"], w["p90"],
            w["p99"], w["max"], r["server_cpu_s"], r["loadavg_1m"]]) + " |")
    lines += ["", "Caller wait p50, on / off (same calls):", ""]
    by = {(r["calls"], r["speculative"]): r for r in res["steps"]}
    for (c, mode), r in sorted(by.items()):
        off = by.get((c, "off"))
        if mode == "on" and off and off["caller_wait_ms"]["p50"] and r["caller_wait_ms"]["p50"]:
            ratio = r["caller_wait_ms"]["p50"] / off["caller_wait_ms"]["p50"]
            lines.append(f"- {c} calls: {r['caller_wait_ms']['p50']} / "
                         f"{off['caller_wait_ms']['p50']} ms = **{ratio:.2f}**")
    lines += ["", "*caller wait*: generator, first loud answer packet received - last loud "
              "speech packet sent (kernel timestamps): the pause the caller hears, including "
              "the VAD's hang-over, the end-of-turn wait, recognition, the answer's synthesis "
              "(cached after the first) and RTP pacing. *taken as said*: the store's "
              f"`choice` events for \"{SAID}\" (a faster turn must not be a wrong one)."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir")
    ap.add_argument("--calls", default="1,50,200")
    ap.add_argument("--turns", type=int, default=4)
    bc.add_results_dir_arg(ap)
    args = ap.parse_args()
    build = bc.find_build_dir(args.build_dir)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="menu-"))
    wav = audio.make_speech_wav(SAID, tmp / "said.wav", pad_before_s=0.3)
    steps = []
    try:
        for calls in (int(c) for c in args.calls.split(",")):
            for mode in ("off", "on"):
                print(f"{calls} calls speculative={mode}", file=sys.stderr)
                try:
                    steps.append(run_step(build, tmp, calls, args.turns, mode, wav))
                except Exception as e:  # noqa: BLE001 - a failed step is reported, not fatal
                    print(f"step failed: {e}", file=sys.stderr)
                    continue
                print(json.dumps({k: steps[-1][k] for k in
                                  ("caller_wait_ms", "turns", "choices_taken")}),
                      file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res = {"machine": bc.machine(), "turns": args.turns, "steps": steps}
    bc.write_results("menu_response", res, markdown(res), out=args.results_dir)


if __name__ == "__main__":
    main()
