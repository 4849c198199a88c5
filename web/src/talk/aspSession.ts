import { RATE, bearerProtocol, newSessionId } from "./pcm";

export type TalkState = "connecting" | "started" | "ended";

export interface TranscriptLine {
  role: "caller" | "agent";
  text: string;
  final: boolean;
}

export interface TalkCallbacks {
  onState: (state: TalkState, detail: string) => void;
  onTranscript: (line: TranscriptLine) => void;
  onAudio: (frame: ArrayBuffer) => void;
  onResponseEnd: (interrupted: boolean) => void;
  /** The session id is atende's call id: the call's page shows it afterwards. */
  onSessionId: (id: string) => void;
}

/**
 * One ASP session (docs/asp.md) from the browser: the token rides in the subprotocol list
 * (browsers cannot set headers on a WebSocket), audio is 16 kHz pcm_s16le both ways, and the
 * "transcripts" feature makes the server send what each side said.
 */
export class AspSession {
  private ws: WebSocket;
  private started = false;
  private closedByUs = false;
  private ended = false;

  constructor(token: string, private readonly to: string, private readonly cb: TalkCallbacks) {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    this.ws = new WebSocket(`${scheme}//${window.location.host}/asp`, ["atende-asp", bearerProtocol(token)]);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (e) => this.onMessage(e);
    this.ws.onclose = (e) => this.onClose(e);
    cb.onState("connecting", "");
  }

  /** One 20 ms frame of the microphone; dropped until the session is up. */
  sendAudio(frame: ArrayBuffer): void {
    if (this.started && this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  hangup(): void {
    this.closedByUs = true;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "session.end", reason: "hangup" }));
    else this.ws.close();
  }

  private onMessage(e: MessageEvent): void {
    if (e.data instanceof ArrayBuffer) {
      this.cb.onAudio(e.data);
      return;
    }
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(String(e.data));
    } catch {
      return;
    }
    switch (msg.type) {
      case "protocol.capabilities": {
        const id = newSessionId();
        this.cb.onSessionId(id);
        this.ws.send(
          JSON.stringify({
            type: "session.start",
            version: "1.0.0",
            session_id: id,
            audio: { sample_rate: RATE, encoding: "pcm_s16le", channels: 1, frame_ms: 20 },
            from: "browser",
            to: this.to,
            features: ["barge_in", "dtmf", "transcripts"],
          }),
        );
        break;
      }
      case "session.started":
        this.started = true;
        this.cb.onState("started", "");
        break;
      case "transcript":
        if ((msg.role === "caller" || msg.role === "agent") && typeof msg.text === "string") {
          this.cb.onTranscript({ role: msg.role, text: msg.text, final: msg.final !== false });
        }
        break;
      case "response.end":
        this.cb.onResponseEnd(msg.interrupted === true);
        break;
      case "session.ended":
        this.started = false;
        this.ended = true;
        this.cb.onState("ended", `${msg.reason ?? "ended"}${msg.detail ? `: ${msg.detail}` : ""}`);
        break;
      case "error":
        this.ended = true;
        this.cb.onState("ended", `error ${msg.code}: ${msg.message}`);
        break;
    }
  }

  private onClose(e: CloseEvent): void {
    const wasStarted = this.started;
    this.started = false;
    if (this.ended) return; // session.ended or error said why already
    if (this.closedByUs || wasStarted || e.code === 1000) {
      this.cb.onState("ended", e.code === 1000 || this.closedByUs ? "" : `connection closed (${e.code})`);
      return;
    }
    this.cb.onState(
      "ended",
      `the server closed the connection before the session started (code ${e.code}): ` +
        "the token was refused, or this atende does not take the token in the WebSocket subprotocol yet",
    );
  }
}
