import type { Turn } from "../api/types";

/** The stages of one turn, in the order the agent passes them. */
export const STAGES: { key: keyof Turn; label: string }[] = [
  { key: "speech_end_ms", label: "end of speech" },
  { key: "stt_final_ms", label: "transcript" },
  { key: "first_token_ms", label: "first token" },
  { key: "first_audio_ms", label: "first audio" },
  { key: "first_play_ms", label: "first RTP" },
];

export interface Step {
  label: string;
  /** ms after the end of speech, or null when the stage did not happen. */
  at: number | null;
  /** ms since the previous stage that happened. */
  delta: number | null;
}

/** Stage times of a turn relative to its end of speech (the caller's wait starts there). */
export function waterfallSteps(turn: Turn): Step[] {
  const start = turn.speech_end_ms;
  let previous: number | null = null;
  return STAGES.map(({ key, label }) => {
    const value = turn[key] as number | null | undefined;
    if (value === null || value === undefined || start === null || start === undefined) {
      return { label, at: null, delta: null };
    }
    const at = value - start;
    const delta = previous === null ? 0 : at - previous;
    previous = at;
    return { label, at, delta };
  });
}

/** One turn's latency as bars on a shared time axis: how long the caller waited, and where. */
export function LatencyWaterfall({ turn }: { turn: Turn }) {
  const steps = waterfallSteps(turn);
  const total = Math.max(1, ...steps.map((s) => s.at ?? 0));
  if (steps.every((s) => s.at === null)) return null;
  return (
    <div className="waterfall" aria-label={`latency of turn ${turn.index}`}>
      {steps.map((s, i) => {
        const from = i === 0 || s.at === null || s.delta === null ? s.at ?? 0 : s.at - s.delta;
        return (
          <div className="wf-row" key={s.label}>
            <span className="wf-label">{s.label}</span>
            <span className="wf-track">
              {s.at !== null && (
                <span
                  className={`wf-bar wf-${i}`}
                  style={{ left: `${(from / total) * 100}%`, width: `${(Math.max(s.delta ?? 0, 0) / total) * 100}%` }}
                />
              )}
            </span>
            <span className="wf-value">{s.at === null ? "–" : i === 0 ? "0 ms" : `+${s.at} ms`}</span>
          </div>
        );
      })}
    </div>
  );
}
