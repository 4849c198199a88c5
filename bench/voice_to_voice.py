#!/usr/bin/python3
"""Voice to voice: what a caller waits from their last word to the agent's first answer
audio, measured on the caller's side of the wire, with speculative end of turn (the default)
against the same persona with it off (the baseline, today's fixed 600 ms wait), in one run.

Callers are bench/loadgen_agent (real SIP + RTP, espeak-ng speech as PCMU). The providers are
the fake OpenAI server (bench/timed_fake_openai.py) answering at once ("instant") or with a
real provider's delays ("real": STT 150 ms, first LLM token 250 ms, first TTS audio 150 ms).
Two utterance sets:
  closed  "What time do you open" -> the recogniser answers "What time do you open?"
          (a closed question: the wait after it can be short);
  paused  "I'd like to book a table for" + 500 ms of silence + "four people": the recogniser
          answers "I'd like to book a table for" for the audio up to the pause and the whole
          sentence for all of it (by the upload's length). An answer to the first half is a
          cut-in: the turn ended inside the caller's sentence.

Per step (calls x set x profile x mode) from the generator (CLOCK_MONOTONIC, kernel receive
timestamps) and the call store:
  caller_response  first loud answer packet received - last loud speech packet sent;
  server_response  the store's first_play_ms - speech_end_ms (atende's own clock: end of
                   speech as the VAD saw it to the answer handed to the leg);
  eot_wait         end-of-turn wait by the policy: 600 ms off; on, max(the words' wait after
                   the last speech frame, the transcript's arrival) (derived, see docs);
  cut_in %         turns whose transcript is the first half of a paused sentence;
  speculative requests used / wasted (atende_speculative_requests_total).

Usage: bench/voice_to_voice.py [--build-dir DIR] [--calls 1,50,200] [--turns 4]
                               [--results-dir DIR] [--quick]
Results: bench/results/voice_to_voice.{json,md}.
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
from harness import audio, http_api

CLOSED_SAID, CLOSED_HEARD = "What time do you open", "What time do you open?"
PAUSED_A, PAUSED_B = "I'd like to book a table for", "four people"
PAUSED_HEARD_A = "I'd like to book a table for"
PAUSED_HEARD = "I'd like to book a table for four people."
PAUSE_S = 0.5
ANSWER = "We open at nine."
PROFILES = {"instant": {"stt": 0, "llm": 0, "tts": 0},
            "real": {"stt": 150, "llm": 250, "tts": 150}}
COMPLETE_WAIT_MS, DEFAULT_WAIT_MS = 200, 600  # turn::TurnConfig defaults

PERSONA = """name: {name}
language: en
voice: en-us
greeting: "Hi."
system_prompt: You answer questions about opening hours in one short sentence.
no_input_seconds: 30
max_turns: 50
turn:
  speculative: {speculative}
"""


def make_wavs(tmp):
    closed = audio.make_speech_wav(CLOSED_SAID, tmp / "closed.wav", pad_before_s=0.3)
    a = audio.make_speech_wav(PAUSED_A, tmp / "a.wav", pad_before_s=0.3)
    b = audio.make_speech_wav(PAUSED_B, tmp / "b.wav")
    sa, rate = audio.read_wav(a)
    sb, _ = audio.read_wav(b)
    # espeak-ng pads each phrase with silence: cut it, so the pause is PAUSE_S of silence
    # between the last loud frame of one half and the first of the other.
    a_end = int(audio.speech_segments(sa, rate, 300.0)[-1][1] * rate)
    b_start = int(audio.speech_segments(sb, rate, 300.0)[0][0] * rate)
    sa, sb = list(sa[:a_end]), list(sb[b_start:])
    paused = tmp / "paused.wav"
    audio.write_wav(paused, sa + [0] * int(PAUSE_S * rate) + sb + [0] * int(0.3 * rate), rate)
    return {"closed": closed, "paused": paused}, len(sa) / rate


def script(kind, profile, first_part_s):
    d = PROFILES[profile]
    if kind == "closed":
        stt = {"keep": True, "text": CLOSED_HEARD, "delay_ms": d["stt"]}
    else:
        # Up to the pause the upload holds pre-roll + the first half + <= 0.4 s of silence.
        stt = {"keep": True, "delay_ms": d["stt"],
               "by_seconds": [[first_part_s + 0.2 + PAUSE_S * 0.9, PAUSED_HEARD_A],
                              [999, PAUSED_HEARD]]}
    return {"transcriptions": [stt],
            "chat": [{"keep": True, "content": ANSWER, "delay_first_ms": d["llm"]}],
            "speech": [{"keep": True, "delay_first_ms": d["tts"]}]}


def write_config(workdir, fake):
    personas = workdir / "personas"
    personas.mkdir(parents=True, exist_ok=True)
    for name, spec in (("v2v", "true"), ("v2vbase", "false")):
        (personas / f"{name}.yaml").write_text(PERSONA.format(name=name, speculative=spec))
    cfg = workdir / "agent.yaml"
    cfg.write_text(f"personas_dir: {personas}\nllm_base_url: {fake.base}\nllm_model: fake\n"
                   f"stt_engine: http\nstt_base_url: {fake.base}\n"
                   f"tts_engine: http\ntts_base_url: {fake.base}\n")
    return cfg


def run_step(build, tmp, calls, turns, kind, profile, mode, wav, first_part_s):
    work = tmp / f"{kind}_{profile}_{mode}_{calls}"
    work.mkdir(parents=True, exist_ok=True)
    fake = al.Fake(work)
    server = None
    try:
        fake.post("/control/script", script(kind, profile, first_part_s))
        server = al.start_server(build, work / "atende", calls,
                                 ["--config", str(write_config(work, fake)),
                                  "--log-level", "warn"])
        service = "v2v" if mode == "on" else "v2vbase"
        gen = al.run_loadgen(build, server.sip_target, service, calls, turns, wav,
                             server.pid(), 240)
        metrics = http_api.get_text(server.http_base + "/metrics")
        records = al.fetch_calls(server.http_base, gen["established"])
    finally:
        if server is not None:
            server.stop(timeout=40)
        fake.stop()
    caller, server_side, eot, cut, answered = [], [], [], 0, 0
    for c in gen["per_call"]:
        for speech_end_ns, answer_ns in c["turns"]:
            if answer_ns:
                caller.append((answer_ns - speech_end_ns) / 1e6)
        record = records.get(c["user"]) or {}
        for t in record.get("turns", []):
            if t["index"] < 1 or t.get("error"):
                continue
            answered += 1
            if t.get("user_text") == PAUSED_HEARD_A:
                cut += 1
            if t.get("first_play_ms") is not None and t.get("speech_end_ms") is not None:
                server_side.append(t["first_play_ms"] - t["speech_end_ms"])
            if mode == "off":
                eot.append(DEFAULT_WAIT_MS)
            elif t.get("stt_final_ms") is not None and t.get("speech_end_ms") is not None:
                heard = t["stt_final_ms"] - t["speech_end_ms"]
                eot.append(max(COMPLETE_WAIT_MS, heard))
    return {"calls": calls, "set": kind, "profile": profile, "speculative": mode,
            "established": gen["established"], "turns_answered": answered,
            "caller_response_ms": al.stats(caller), "server_response_ms": al.stats(server_side),
            "eot_wait_ms": al.stats(eot),
            "cut_in_pct": round(100.0 * cut / answered, 1) if answered else None,
            "provider_sum_ms": sum(PROFILES[profile].values()),
            "speculative_requests": http_api.speculative_counts(metrics),
            "server_cpu_s": gen.get("server_cpu_s"),
            "loadavg_1m": round(os.getloadavg()[0], 2)}


def fmt(v):
    return "-" if v is None else f"{v:g}" if isinstance(v, (int, float)) else str(v)


def markdown(res):
    m = res["machine"]
    lines = ["# Voice to voice: the caller's wait, speculative end of turn on vs off", "",
             f"{m['when']}, {m['host']}, {m['cpus']} CPUs, kernel {m['kernel']}; "
             f"{res['turns']} caller turns per call; generator bench/loadgen_agent (SIP + "
             "PCMU RTP, espeak-ng speech); providers bench/timed_fake_openai.py (STT, LLM and "
             "TTS over HTTP, the OpenAI wire formats). Each row a fresh atende and fake; "
             "`on` and `off` are the same persona with `turn.speculative` true/false.", "",
             "| set | providers | calls | speculative | turns | caller wait p50 | p99 | "
             "server p50 | server p99 | EOT wait p50 | pipeline p50 | cut-in % | provider sum | "
             "spec. LLM used / wasted | load 1m |", "|---" * 15 + "|"]
    for r in res["steps"]:
        cr, sr, ew = r["caller_response_ms"], r["server_response_ms"], r["eot_wait_ms"]
        pipe = (round(sr["p50"] - ew["p50"], 1) if sr["p50"] is not None and
                ew["p50"] is not None else None)
        sp = r["speculative_requests"]
        lines.append("| " + " | ".join(fmt(x) for x in [
            r["set"], r["profile"], r["calls"], r["speculative"], r["turns_answered"],
            cr["p50"], cr["p99"], sr["p50"], sr["p99"], ew["p50"], pipe, r["cut_in_pct"],
            r["provider_sum_ms"],
            f"{sp.get('llm_used', 0)} / {sp.get('llm_wasted', 0)}", r["loadavg_1m"]]) + " |")
    lines += ["", "Ratios, speculative on / off, caller wait p50 (same set, providers, calls):",
              ""]
    by = {(r["set"], r["profile"], r["calls"], r["speculative"]): r for r in res["steps"]}
    for (s, p, c, mode), r in sorted(by.items()):
        off = by.get((s, p, c, "off"))
        if (mode == "on" and off and off["caller_response_ms"]["p50"] and
                r["caller_response_ms"]["p50"] is not None):
            ratio = r["caller_response_ms"]["p50"] / off["caller_response_ms"]["p50"]
            lines.append(f"- {s}, {p}, {c} calls: {r['caller_response_ms']['p50']} / "
                         f"{off['caller_response_ms']['p50']} ms = **{ratio:.2f}**")
    lines += ["", "## Definitions", "",
              "- *caller wait*: generator, first loud answer packet received - last loud "
              "speech packet sent (kernel timestamps, CLOCK_MONOTONIC): what the caller hears "
              "as the pause. Includes the VAD's hang-over and the RTP pacing.",
              "- *server*: the call store's `first_play_ms - speech_end_ms` (end of speech as "
              "the VAD saw it -> the answer handed to the leg).",
              "- *EOT wait*: the end-of-turn wait the policy applied (derived, not timed): off, "
              "600 ms; on, max(200 ms after the last speech frame for a closed sentence, the "
              "speculative transcript's arrival). *pipeline* = server p50 - EOT wait p50.",
              "- *cut-in %*: answered turns whose transcript is only the first half of the "
              "paused sentence (the turn ended in the caller's pause).",
              "- *provider sum*: the fake's configured delays (STT + first token + first audio)."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir")
    ap.add_argument("--calls", default="1,50,200")
    ap.add_argument("--turns", type=int, default=4)
    ap.add_argument("--quick", action="store_true", help="closed set, instant, 1 call only")
    bc.add_results_dir_arg(ap)
    args = ap.parse_args()
    build = bc.find_build_dir(args.build_dir)
    calls = [int(c) for c in args.calls.split(",")]
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="v2v-"))
    wavs, first_part_s = make_wavs(tmp)
    plan = [("closed", "instant", c) for c in calls]
    if not args.quick:
        mid = calls[len(calls) // 2]
        plan += [("paused", "instant", mid), ("closed", "real", mid), ("paused", "real", mid)]
    else:
        plan = [("closed", "instant", calls[0])]
    steps = []
    try:
        for kind, profile, n in plan:
            for mode in ("off", "on"):
                print(f"{kind} {profile} {n} calls speculative={mode}", file=sys.stderr)
                try:
                    steps.append(run_step(build, tmp, n, args.turns, kind, profile, mode,
                                          wavs[kind], first_part_s))
                except Exception as e:  # noqa: BLE001 - a failed step is reported, not fatal
                    print(f"step failed: {e}", file=sys.stderr)
                    continue
                print(json.dumps({k: steps[-1][k] for k in
                                  ("caller_response_ms", "cut_in_pct", "turns_answered")}),
                      file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res = {"machine": bc.machine(), "turns": args.turns, "steps": steps}
    bc.write_results("voice_to_voice", res, markdown(res), out=args.results_dir)


if __name__ == "__main__":
    main()
