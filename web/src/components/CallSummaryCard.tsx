import type { CallSummary } from "../api/types";
import { formatDuration, formatTime } from "../format";

/** The facts of one leg: who, what answered it, when, how it ended. */
export function CallSummaryCard({ call }: { call: CallSummary }) {
  const state = call.ended_at ? "ended" : call.answered_at ? "answered" : "ringing";
  const rows: [string, string][] = [
    ["Direction", call.direction],
    ["From", call.from],
    ["To", call.to],
    ["Kind", call.leg_kind],
    ["Flow / persona", call.flow],
    ["Started", formatTime(call.started_at)],
    ["Answered", formatTime(call.answered_at)],
    ["Ended", formatTime(call.ended_at)],
    ["Duration", formatDuration(call.duration_ms)],
    ["Outcome", call.end_reason ?? "–"],
    ["SIP status", call.sip_status === null ? "–" : String(call.sip_status)],
    ["Digits", call.digits || "–"],
  ];
  return (
    <dl className="summary">
      <dt>State</dt>
      <dd>
        <span className={`state state-${state}`} data-testid="call-state">
          {state}
        </span>
      </dd>
      {rows.map(([k, v]) => (
        <div key={k} className="pair">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
