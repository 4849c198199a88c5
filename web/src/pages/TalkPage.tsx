import { useEffect, useRef, useState } from "react";
import { AspSession, type TalkState, type TranscriptLine } from "../talk/aspSession";
import { RATE } from "../talk/pcm";
import { PcmPlayer } from "../talk/player";
import workletSource from "../talk/capture-worklet.js?raw";
import { useApi } from "../hooks/apiContext";
import { useScriptNames } from "../hooks/useScriptNames";
import { Link } from "../router";
import { savedToken } from "../session";

interface Running {
  session: AspSession;
  ctx: AudioContext;
  stream: MediaStream;
}

/**
 * Talk to a flow or persona from the browser: microphone -> AudioWorklet (16 kHz, 20 ms
 * frames) -> WebSocket (ASP) -> atende, and its answer back to the speakers, with the
 * transcript as the server hears and speaks.
 */
export function TalkPage() {
  useApi(); // only for logged-in users
  const flows = useScriptNames("flows");
  const personas = useScriptNames("personas");
  const [to, setTo] = useState("ivr");
  const [state, setState] = useState<TalkState | "idle">("idle");
  const [detail, setDetail] = useState("");
  const [lines, setLines] = useState<TranscriptLine[]>([]);
  const [callId, setCallId] = useState("");
  const running = useRef<Running>();

  const stopAudio = () => {
    const r = running.current;
    if (!r) return;
    r.stream.getTracks().forEach((t) => t.stop());
    r.ctx.close().catch(() => undefined);
    running.current = undefined;
  };
  useEffect(() => () => {
    running.current?.session.hangup();
    stopAudio();
  }, []);

  const start = async () => {
    setLines([]);
    setDetail("");
    setCallId("");
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (e) {
      setState("ended");
      setDetail(`no microphone: ${(e as Error).message} (the page needs https:// or localhost)`);
      return;
    }
    const ctx = new AudioContext({ sampleRate: RATE });
    try {
      // From a Blob of the bundled source: no second file to fetch, serve or cache.
      const url = URL.createObjectURL(new Blob([workletSource], { type: "text/javascript" }));
      await ctx.audioWorklet.addModule(url);
      URL.revokeObjectURL(url);
    } catch (e) {
      stream.getTracks().forEach((t) => t.stop());
      ctx.close().catch(() => undefined);
      setState("ended");
      setDetail(`cannot start audio capture: ${(e as Error).message}`);
      return;
    }
    const player = new PcmPlayer(ctx);
    const session = new AspSession(savedToken() ?? "", to.trim(), {
      onState: (s, d) => {
        setState(s);
        if (d) setDetail(d);
        if (s === "ended") stopAudio();
      },
      onTranscript: (line) => setLines((ls) => addLine(ls, line)),
      onAudio: (frame) => player.enqueue(frame),
      onResponseEnd: (interrupted) => interrupted && player.stop(),
      onSessionId: setCallId,
    });
    const capture = new AudioWorkletNode(ctx, "atende-capture");
    capture.port.onmessage = (e: MessageEvent<ArrayBuffer>) => session.sendAudio(e.data);
    ctx.createMediaStreamSource(stream).connect(capture);
    running.current = { session, ctx, stream };
  };

  const names = [...flows.names, ...personas.names];
  const busy = state === "connecting" || state === "started";
  return (
    <section className="talk">
      <h2>Talk in the browser</h2>
      <div className="actions">
        <label>
          Flow or persona
          <input name="talk-to" list="talk-names" value={to} onChange={(e) => setTo(e.target.value)} disabled={busy} />
          <datalist id="talk-names">
            {names.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
        </label>
        {busy ? (
          <button className="danger" onClick={() => running.current?.session.hangup()}>
            Hang up
          </button>
        ) : (
          <button onClick={start} disabled={!to.trim()}>
            Start talking
          </button>
        )}
        <span className={`state state-${state}`} data-testid="talk-state">
          {state}
        </span>
      </div>
      {detail && <div className={state === "ended" && !/^hangup|^local_hangup/.test(detail) ? "notice error" : "notice"}>{detail}</div>}
      {callId && state !== "idle" && (
        <p className="hint">
          Call <Link to={`/calls/${callId}`}>{callId}</Link>
        </p>
      )}
      <ol className="transcript live-transcript" aria-live="polite">
        {lines.map((l, i) => (
          <li key={i} className={`said ${l.role}${l.final ? "" : " partial"}`}>
            <b>{l.role === "caller" ? "You" : "Agent"}</b> {l.text}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** A partial line is replaced by the next line of the same role; a final one stays. */
function addLine(lines: TranscriptLine[], line: TranscriptLine): TranscriptLine[] {
  const last = lines[lines.length - 1];
  if (last && !last.final && last.role === line.role) return [...lines.slice(0, -1), line];
  return [...lines, line].slice(-200);
}
