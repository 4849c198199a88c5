import type { LiveCall } from "../api/types";
import { CallActions } from "../components/CallActions";
import { formatDuration, shortParty } from "../format";
import { useLiveCalls } from "../hooks/useLiveCalls";
import { useNow } from "../hooks/useNow";
import { Link } from "../router";

/** The calls up now, updated as they start, are answered and end. */
export function LivePage() {
  const { calls, mode, notice } = useLiveCalls();
  const now = useNow();
  return (
    <section>
      <h2>
        Live calls <span className={`badge mode-${mode}`}>{mode === "events" ? "live" : mode}</span>
      </h2>
      {notice && <div className="notice unavailable">{notice}</div>}
      {calls.length === 0 ? (
        <p className="empty">No calls right now.</p>
      ) : (
        <table className="calls live">
          <thead>
            <tr>
              <th>Who</th>
              <th>Flow / persona</th>
              <th>State</th>
              <th>Duration</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {calls.map((c) => (
              <LiveRow key={c.id} call={c} now={now} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function LiveRow({ call, now }: { call: LiveCall; now: number }) {
  const first = call.legs[0];
  const who = first ? `${shortParty(first.from)} → ${shortParty(first.to)}` : call.id;
  return (
    <tr data-call-id={call.id}>
      <td>
        <Link to={`/calls/${encodeURIComponent(call.id)}`}>{who}</Link>
        {call.legs.length > 1 && <span className="legs-count"> +{call.legs.length - 1} leg(s)</span>}
      </td>
      <td className="flow">{call.flow}</td>
      <td>
        <span className={`state state-${call.state}`}>{call.state}</span>
      </td>
      {/* The page's clock ticks once a second and may lag a call that just arrived: never negative. */}
      <td className="duration">{formatDuration(Math.max(0, now - Date.parse(call.started_at)))}</td>
      <td>
        <CallActions callId={call.id} />
      </td>
    </tr>
  );
}
