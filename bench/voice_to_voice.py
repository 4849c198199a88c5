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

Comparisons (--compare, default `speculative`: the plan above, unchanged):
  speculative  the pipeline persona with turn.speculative on vs off (the plan above);
  realtime     the closed set spoken by an OpenAI Realtime persona (engine: realtime) whose
               model is tests/fake_openai/fake_realtime.py (the Realtime event wire format:
               session.update, input_audio_buffer.append, response.* deltas...), with our
               VAD (`realtime.vad: local`: our endpointer ends the turn, we commit and ask
               for a response, speculatively at the short pause) and with the server's
               (`vad: server`, silence_ms 500: the fake's energy VAD answers by itself); the
               first audio delta comes at once (instant) or 300 ms after response.created
               (real), the caller's transcript at once or 150 ms after the commit (real:
               the pipeline's STT delay). Baseline in the same run:
               the pipeline persona (HTTP STT -> LLM -> TTS, speculative on, the default);
  stream       the closed set heard by the pipeline persona through a streaming recogniser
               (`stt.engine: ws_stream`, Deepgram-style partials over WebSocket from
               tests/fake_openai/fake_stream_stt.py: the partials drive the end of turn and
               the speculative answer; the question's last partial comes when the fake has
               received the speech's audio, plus 150 ms with real providers; the final
               150 ms after the end of the stream), against the same one-shot HTTP STT
               persona as baseline.
Each comparison runs, per provider profile (--providers) and call count (--calls), its
modes one after the other (fresh atende and fakes for each), so the baseline shares the
host's load; ratios are mode / baseline of the caller's wait.

Usage: bench/voice_to_voice.py [--build-dir DIR] [--calls 1,50,200] [--turns 4]
                               [--compare speculative,realtime,stream]
                               [--providers instant,real] [--results-name NAME]
                               [--results-dir DIR] [--quick]
Results: bench/results/voice_to_voice.{json,md} (--compare speculative), else
bench/results/voice_to_voice_realtime.{json,md} (or --results-name).
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
from harness.fake_openai import FAKES, FakeProcess

CLOSED_SAID, CLOSED_HEARD = "What time do you open", "What time do you open?"
PAUSED_A, PAUSED_B = "I'd like to book a table for", "four people"
PAUSED_HEARD_A = "I'd like to book a table for"
PAUSED_HEARD = "I'd like to book a table for four people."
PAUSE_S = 0.5
ANSWER = "We open at nine."
PROFILES = {"instant": {"stt": 0, "llm": 0, "tts": 0},
            "real": {"stt": 150, "llm": 250, "tts": 150}}
COMPLETE_WAIT_MS, DEFAULT_WAIT_MS = 200, 600  # turn::TurnConfig defaults
PRE_ROLL_MS = 200  # turn::TurnConfig::pre_roll: a stream starts with it before the speech
REALTIME_FIRST_AUDIO = {"instant": 0, "real": 300}  # fake_realtime.py --first-audio-ms
# fake_realtime.py --transcript-ms: the input transcription as long as the pipeline's STT.
REALTIME_TRANSCRIPT = {"instant": 0, "real": 150}
STREAM_PARTIALS = ["what time", "what time do you", "what time do you open?"]
REALTIME_SILENCE_MS = 500  # realtime.silence_ms (the persona default), server VAD

# The modes a row can be: the persona called and what it is. `base` is the baseline of the
# comparisons realtime and stream (ratios are mode / base).
MODES = {
    "spec_off": {"label": "pipeline, http STT, speculative off", "service": "v2vbase",
                 "engine": "pipeline", "stt": "http", "vad": "ours", "speculative": "off"},
    "base": {"label": "pipeline, http STT", "service": "v2v", "engine": "pipeline",
             "stt": "http", "vad": "ours", "speculative": "on"},
    "rt_local": {"label": "realtime, our VAD", "service": "v2vrt", "engine": "realtime",
                 "stt": None, "vad": "ours", "speculative": None},
    "rt_server": {"label": "realtime, server VAD", "service": "v2vrts", "engine": "realtime",
                  "stt": None, "vad": "server", "speculative": None},
    "stream": {"label": "pipeline, ws_stream STT", "service": "v2vstream",
               "engine": "pipeline", "stt": "ws_stream", "vad": "ours", "speculative": "on"},
}
COMPARISONS = {"realtime": ["base", "rt_local", "rt_server"], "stream": ["base", "stream"]}

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

REALTIME_PERSONA = """name: {name}
engine: realtime
realtime:
  url: "{url}"
  vad: {vad}
  silence_ms: {silence_ms}
language: en
greeting: "Hi."
system_prompt: You answer questions about opening hours in one short sentence.
max_turns: 50
"""

STREAM_PERSONA = PERSONA + """stt:
  engine: ws_stream
  base_url: "{url}"
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
    cs, _ = audio.read_wav(closed)
    segs = audio.speech_segments(cs, rate, 300.0)
    closed_speech_s = segs[-1][1] - segs[0][0]
    return {"closed": closed, "paused": paused}, len(sa) / rate, closed_speech_s


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


def realtime_script(calls, turns):
    """One 1 s answer per response (the greeting and each turn), the question heard."""
    n = calls * (turns + 3)
    return {"responses": [{"say": ANSWER, "seconds": 1.0}] * n,
            "transcripts": [CLOSED_HEARD] * n}


def stream_script(profile, calls, turns, closed_speech_s):
    """One stream per utterance: partials spread over the audio the fake receives, the
    closed question's last one once it has had the speech (pre-roll + speech), plus the
    profile's STT delay; the final that long after the end of the stream."""
    lag = PROFILES[profile]["stt"]
    every = int(round((PRE_ROLL_MS + closed_speech_s * 1000 + lag) / len(STREAM_PARTIALS)))
    return {"streams": [{"partials": STREAM_PARTIALS, "partial_every_ms": every,
                         "final": CLOSED_HEARD, "delay_ms": lag}] * (calls * (turns + 3))}


def provider_sum(profile, mode):
    if MODES[mode]["engine"] == "realtime":
        return REALTIME_FIRST_AUDIO[profile]
    return sum(PROFILES[profile].values())


def write_config(workdir, fake, realtime=None, stream=None):
    personas = workdir / "personas"
    personas.mkdir(parents=True, exist_ok=True)
    for name, spec in (("v2v", "true"), ("v2vbase", "false")):
        (personas / f"{name}.yaml").write_text(PERSONA.format(name=name, speculative=spec))
    if realtime:
        url = f"ws://127.0.0.1:{realtime.port}/v1/realtime?model=gpt-realtime"
        for name, vad in (("v2vrt", "local"), ("v2vrts", "server")):
            (personas / f"{name}.yaml").write_text(REALTIME_PERSONA.format(
                name=name, url=url, vad=vad, silence_ms=REALTIME_SILENCE_MS))
    if stream:
        (personas / "v2vstream.yaml").write_text(STREAM_PERSONA.format(
            name="v2vstream", speculative="true", url=f"ws://127.0.0.1:{stream.port}/v1/listen"))
    cfg = workdir / "agent.yaml"
    cfg.write_text(f"personas_dir: {personas}\nllm_base_url: {fake.base}\nllm_model: fake\n"
                   f"stt_engine: http\nstt_base_url: {fake.base}\n"
                   f"tts_engine: http\ntts_base_url: {fake.base}\n")
    return cfg


def run_step(build, tmp, calls, turns, kind, profile, mode, wav, first_part_s,
             closed_speech_s):
    m = MODES[mode]
    work = tmp / f"{kind}_{profile}_{mode}_{calls}"
    work.mkdir(parents=True, exist_ok=True)
    fake = al.Fake(work)
    realtime = stream = server = None
    try:
        fake.post("/control/script", script(kind, profile, first_part_s))
        if m["engine"] == "realtime":
            realtime = FakeProcess(FAKES / "fake_realtime.py",
                                   ["--first-audio-ms", str(REALTIME_FIRST_AUDIO[profile]),
                                    "--transcript-ms", str(REALTIME_TRANSCRIPT[profile]),
                                    "--quiet-audio"])
            realtime.script(realtime_script(calls, turns))
        if m["stt"] == "ws_stream":
            stream = FakeProcess(FAKES / "fake_stream_stt.py")
            stream.script(stream_script(profile, calls, turns, closed_speech_s))
        fakes = [f.proc.pid for f in (realtime, stream) if f] + [fake.pid()]
        fakes_cpu0 = sum(al.cpu_seconds(p) or 0 for p in fakes)
        server = al.start_server(build, work / "atende", calls,
                                 ["--config", str(write_config(work, fake, realtime, stream)),
                                  "--log-level", "warn"])
        gen = al.run_loadgen(build, server.sip_target, m["service"], calls, turns, wav,
                             server.pid(), 240)
        fakes_cpu = sum(al.cpu_seconds(p) or 0 for p in fakes) - fakes_cpu0
        metrics = http_api.get_text(server.http_base + "/metrics")
        records = al.fetch_calls(server.http_base, gen["established"])
    finally:
        if server is not None:
            server.stop(timeout=40)
        fake.stop()
        for f in (realtime, stream):
            if f is not None:
                f.stop()
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
            # The policy's wait is derived for the one-shot HTTP STT only (see Definitions).
            if mode == "spec_off":
                eot.append(DEFAULT_WAIT_MS)
            elif (mode == "base" and t.get("stt_final_ms") is not None and
                  t.get("speech_end_ms") is not None):
                heard = t["stt_final_ms"] - t["speech_end_ms"]
                eot.append(max(COMPLETE_WAIT_MS, heard))
    return {"calls": calls, "set": kind, "profile": profile, "mode": mode,
            "mode_label": m["label"], "engine": m["engine"], "stt": m["stt"],
            "vad": m["vad"], "speculative": m["speculative"],
            "established": gen["established"], "turns_answered": answered,
            "caller_response_ms": al.stats(caller), "server_response_ms": al.stats(server_side),
            "eot_wait_ms": al.stats(eot),
            "cut_in_pct": round(100.0 * cut / answered, 1) if answered else None,
            "provider_sum_ms": provider_sum(profile, mode),
            "speculative_requests": http_api.speculative_counts(metrics),
            "server_cpu_s": gen.get("server_cpu_s"),
            "fakes_cpu_s": round(fakes_cpu, 2),
            "loadavg_1m": round(os.getloadavg()[0], 2)}


def fmt(v):
    return "-" if v is None else f"{v:g}" if isinstance(v, (int, float)) else str(v)


def ratio_lines(res):
    """Caller wait p50 (and p99) of each mode over its comparison's baseline, same set,
    providers and calls."""
    by = {(r["set"], r["profile"], r["calls"], r["mode"]): r for r in res["steps"]}
    lines = []
    pairs = []
    if "speculative" in res["compare"]:
        pairs.append(("on / off", "base", "spec_off"))
    for mode in ("rt_local", "rt_server", "stream"):
        pairs.append((f"{MODES[mode]['label']} / {MODES['base']['label']}", mode, "base"))
    for title, mode, base in pairs:
        rows = []
        for (s, p, c, m), r in sorted(by.items(), key=lambda kv: (kv[0][0], kv[0][1],
                                                                   kv[0][2])):
            b = by.get((s, p, c, base))
            if m != mode or not b:
                continue
            num, den = r["caller_response_ms"], b["caller_response_ms"]
            if not num["p50"] or not den["p50"]:
                continue
            p99 = (f"; p99 {num['p99']} / {den['p99']} ms = {num['p99'] / den['p99']:.2f}"
                   if num["p99"] and den["p99"] else "")
            rows.append(f"- {s}, {p}, {c} calls: {num['p50']} / {den['p50']} ms = "
                        f"**{num['p50'] / den['p50']:.2f}**{p99}")
        if rows:
            lines += ["", f"Ratios, {title}, caller wait p50 (same set, providers, calls):",
                      ""] + rows
    return lines


def markdown(res):
    m = res["machine"]
    compare = res["compare"]
    title = ("Voice to voice: the caller's wait, speculative end of turn on vs off"
             if compare == ["speculative"] else
             "Voice to voice: the caller's wait, " + ", ".join(
                 {"speculative": "speculative end of turn on vs off",
                  "realtime": "OpenAI Realtime vs the pipeline",
                  "stream": "streaming vs one-shot STT"}[c] for c in compare))
    providers = "bench/timed_fake_openai.py (STT, LLM and TTS over HTTP, the OpenAI wire formats)"
    if "realtime" in compare:
        providers += ("; tests/fake_openai/fake_realtime.py (the Realtime event protocol over "
                      "WebSocket, its own energy VAD for `vad: server`)")
    if "stream" in compare:
        providers += ("; tests/fake_openai/fake_stream_stt.py (Deepgram-style partials over "
                      "WebSocket)")
    lines = [f"# {title}", "",
             f"{m['when']}, {m['host']}, {m['cpus']} CPUs, kernel {m['kernel']}; "
             f"{res['turns']} caller turns per call; generator bench/loadgen_agent (SIP + "
             f"PCMU RTP, espeak-ng speech); providers {providers}. Each row a fresh atende "
             "and fakes; `mode` names the persona's engine, recogniser and turn detection.",
             ""]
    if res.get("note"):
        lines += [res["note"], ""]
    lines += ["| mode | set | providers | calls | turns | caller wait p50 | p99 | "
              "server p50 | server p99 | EOT wait p50 | pipeline p50 | cut-in % | provider sum | "
              "spec. LLM used / wasted | atende CPU s | fakes CPU s | load 1m |",
              "|---" * 17 + "|"]
    for r in res["steps"]:
        cr, sr, ew = r["caller_response_ms"], r["server_response_ms"], r["eot_wait_ms"]
        pipe = (round(sr["p50"] - ew["p50"], 1) if sr["p50"] is not None and
                ew["p50"] is not None else None)
        sp = r["speculative_requests"]
        spec = (f"{sp.get('llm_used', 0)} / {sp.get('llm_wasted', 0)}"
                if r["engine"] == "pipeline" else "-")
        lines.append("| " + " | ".join(fmt(x) for x in [
            r["mode_label"], r["set"], r["profile"], r["calls"], r["turns_answered"],
            cr["p50"], cr["p99"], sr["p50"], sr["p99"], ew["p50"], pipe, r["cut_in_pct"],
            r["provider_sum_ms"], spec, r.get("server_cpu_s"), r.get("fakes_cpu_s"),
            r["loadavg_1m"]]) + " |")
    lines += ratio_lines(res)
    lines += ["", "## Definitions", "",
              "- *caller wait*: generator, first loud answer packet received - last loud "
              "speech packet sent (kernel timestamps, CLOCK_MONOTONIC): what the caller hears "
              "as the pause. Includes the VAD's hang-over and the RTP pacing. The one number "
              "comparable across modes.",
              "- *server*: the call store's `first_play_ms - speech_end_ms` (end of speech -> "
              "the answer handed to the leg). Pipeline and realtime with our VAD: "
              "`speech_end_ms` is the VAD's last speech frame; realtime with the server's "
              "VAD it is when `input_audio_buffer.speech_stopped` arrived (after the "
              "server's silence_ms), so that row's server time leaves the turn wait out.",
              "- *EOT wait* (pipeline with the one-shot HTTP STT only): the end-of-turn wait "
              "the policy applied (derived, not timed): speculative off, 600 ms; on, "
              "max(200 ms after the last speech frame for a closed sentence, the speculative "
              "transcript's arrival). *pipeline* = server p50 - EOT wait p50.",
              "- *cut-in %*: answered turns whose transcript is only the first half of the "
              "paused sentence (the turn ended in the caller's pause).",
              "- *provider sum*: the fakes' configured delays: pipeline, STT + first token + "
              "first audio (the streaming recogniser: its last partial's lag + first token + "
              "first audio); realtime, response.created -> first audio delta.",
              "- *atende CPU s*, *fakes CPU s*: user + system CPU over the step (atende: the "
              "generator's first INVITE to its first BYE; the fakes: the generator's run). "
              "The fakes are Python: at many calls their own CPU is part of what is measured.",
              "- *load 1m*: the host's 1-minute load average after the step."]
    return "\n".join(lines) + "\n"


def plan_steps(compare, providers, calls, quick):
    """[(set, profile, calls, mode)] in run order, without repeats (a baseline shared by two
    comparisons runs once)."""
    plan = []
    if "speculative" in compare:
        if quick:
            groups = [("closed", "instant", calls[0])]
        else:
            groups = [("closed", "instant", c) for c in calls if "instant" in providers]
            mid = calls[len(calls) // 2]
            groups += [g for g in (("paused", "instant", mid), ("closed", "real", mid),
                                   ("paused", "real", mid)) if g[1] in providers]
        plan += [(s, p, c, mode) for s, p, c in groups for mode in ("spec_off", "base")]
    for profile in (providers[:1] if quick else providers):
        for n in (calls[:1] if quick else calls):
            for comparison in ("realtime", "stream"):
                if comparison in compare:
                    plan += [("closed", profile, n, mode) for mode in COMPARISONS[comparison]]
    seen, out = set(), []
    for step in plan:
        if step not in seen:
            seen.add(step)
            out.append(step)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir")
    ap.add_argument("--calls", default="1,50,200", help="call counts (default 1,50,200)")
    ap.add_argument("--turns", type=int, default=4)
    ap.add_argument("--compare", default="speculative",
                    help="comma list of speculative (default), realtime, stream")
    ap.add_argument("--providers", default="instant,real",
                    help="comma list of provider delay profiles: instant (the fakes answer at "
                         "once), real (STT 150, first token 250, first TTS audio 150 ms; "
                         "Realtime first audio 300 ms, its transcript 150 ms). "
                         "Default instant,real")
    ap.add_argument("--results-name",
                    help="results file name (default voice_to_voice with --compare "
                         "speculative, else voice_to_voice_realtime)")
    ap.add_argument("--note", help="a line of context for the markdown (e.g. host load)")
    ap.add_argument("--quick", action="store_true",
                    help="the first call count and profile only (closed set)")
    bc.add_results_dir_arg(ap)
    args = ap.parse_args()
    compare = [c for c in args.compare.split(",") if c]
    providers = [p for p in args.providers.split(",") if p]
    if not compare or any(c not in ("speculative", "realtime", "stream") for c in compare):
        ap.error("--compare: speculative, realtime, stream")
    if not providers or any(p not in PROFILES for p in providers):
        ap.error("--providers: instant, real")
    name = args.results_name or ("voice_to_voice" if compare == ["speculative"]
                                 else "voice_to_voice_realtime")
    build = bc.find_build_dir(args.build_dir)
    calls = [int(c) for c in args.calls.split(",")]
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="v2v-"))
    wavs, first_part_s, closed_speech_s = make_wavs(tmp)
    steps = []
    try:
        for kind, profile, n, mode in plan_steps(compare, providers, calls, args.quick):
            print(f"{kind} {profile} {n} calls {MODES[mode]['label']}", file=sys.stderr)
            try:
                steps.append(run_step(build, tmp, n, args.turns, kind, profile, mode,
                                      wavs[kind], first_part_s, closed_speech_s))
            except Exception as e:  # noqa: BLE001 - a failed step is reported, not fatal
                print(f"step failed: {e}", file=sys.stderr)
                continue
            print(json.dumps({k: steps[-1][k] for k in
                              ("caller_response_ms", "cut_in_pct", "turns_answered",
                               "fakes_cpu_s", "loadavg_1m")}), file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res = {"machine": bc.machine(), "turns": args.turns, "compare": compare,
           "providers": providers, "note": args.note, "steps": steps}
    bc.write_results(name, res, markdown(res), out=args.results_dir)


if __name__ == "__main__":
    main()
