// Shapes of atende's API as the console uses them (docs/api.md, src/api/openapi.json and
// the console contract). Optional fields are the ones a server may not send yet.

export type Iso = string;

export interface CallSummary {
  id: string;
  direction: "inbound" | "outbound";
  from: string;
  to: string;
  leg_kind: string;
  flow: string;
  started_at: Iso;
  answered_at: Iso | null;
  ended_at: Iso | null;
  end_reason: string | null;
  sip_status: number | null;
  digits: string;
  session_id?: string;
  duration_ms: number | null;
}

export interface CallEvent {
  at: Iso;
  kind: string;
  detail: string;
}

/** One agent turn; stage times are ms since the agent started, null when it did not happen. */
export interface Turn {
  index: number;
  user_text: string;
  agent_text: string;
  interrupted: boolean;
  error: string;
  speech_end_ms?: number | null;
  stt_final_ms?: number | null;
  first_token_ms?: number | null;
  first_audio_ms?: number | null;
  first_play_ms?: number | null;
}

export interface Recording {
  url: string;
  bytes: number;
  format: string;
}

export interface CallDetail extends CallSummary {
  events: CallEvent[];
  turns: Turn[];
  legs: CallDetail[];
  recording?: Recording | null;
}

export interface LiveLeg {
  id: string;
  kind: string;
  direction: "inbound" | "outbound";
  from: string;
  to: string;
  state: string;
}

export interface LiveCall {
  id: string;
  flow: string;
  state: string;
  started_at: Iso;
  legs: LiveLeg[];
}

export type LiveEvent =
  | { type: "snapshot"; calls: LiveCall[] }
  | { type: "call.started" | "call.answered" | "call.updated" | "call.ended"; call: LiveCall };

export interface Trunk {
  name: string;
  registers: boolean;
  state: string | null;
  last_status: number | null;
  last_reason: string;
  changed_at: Iso | null;
}

export interface AuditEntry {
  id: number;
  at: Iso;
  token: string;
  source: string;
  method: string;
  path: string;
  status: number;
  detail: string;
}

export interface ScriptInfo {
  name: string;
  type: string;
  file: string;
  description: string;
}

export interface ScriptSource {
  name: string;
  type: string;
  file: string;
  yaml: string;
}

export type ValidateResult =
  | { ok: true; flows: string[] }
  | { ok: false; errors: { message: string; line: number | null }[] };

export interface ReloadResult {
  flows: number;
  personas: number;
}

export interface OriginateRequest {
  to: string;
  flow?: string;
  persona?: string;
  trunk?: string;
  caller_id?: string;
  variables?: Record<string, string>;
}

/** History filters; every field optional (GET /api/calls query parameters). */
export interface HistoryQuery {
  limit?: number;
  before?: string;
  since?: string;
  until?: string;
  flow?: string;
  outcome?: string;
  direction?: string;
  number?: string;
}
