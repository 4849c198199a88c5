import type { Turn } from "../api/types";
import { LatencyWaterfall } from "./LatencyWaterfall";

/** The conversation turn by turn: what the caller said, what the agent answered, how fast. */
export function Transcript({ turns }: { turns: Turn[] }) {
  if (turns.length === 0) return <p className="empty">No agent turns on this call.</p>;
  return (
    <ol className="transcript">
      {turns.map((t) => (
        <li key={t.index} className="turn">
          {t.user_text && (
            <p className="said caller">
              <b>Caller</b> {t.user_text}
            </p>
          )}
          {t.agent_text && (
            <p className="said agent">
              <b>Agent</b> {t.agent_text}
              {t.interrupted && <span className="tag">interrupted</span>}
            </p>
          )}
          {t.error && <p className="notice error">turn error: {t.error}</p>}
          <LatencyWaterfall turn={t} />
        </li>
      ))}
    </ol>
  );
}
