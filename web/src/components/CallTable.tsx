import type { CallSummary } from "../api/types";
import { formatDuration, formatTime, shortParty } from "../format";
import { Link } from "../router";

/** Finished and running calls as rows, newest first, each linking to its page. */
export function CallTable({ calls }: { calls: CallSummary[] }) {
  return (
    <table className="calls history">
      <thead>
        <tr>
          <th>Started</th>
          <th>Direction</th>
          <th>From</th>
          <th>To</th>
          <th>Flow</th>
          <th>Outcome</th>
          <th>Duration</th>
        </tr>
      </thead>
      <tbody>
        {calls.map((c) => (
          <tr key={c.id} data-call-id={c.id}>
            <td>
              <Link to={`/calls/${encodeURIComponent(c.id)}`}>{formatTime(c.started_at)}</Link>
            </td>
            <td>{c.direction}</td>
            <td title={c.from}>{shortParty(c.from)}</td>
            <td title={c.to}>{shortParty(c.to)}</td>
            <td className="flow">{c.flow}</td>
            <td>{c.ended_at ? (c.end_reason ?? "") : <span className="state state-answered">in progress</span>}</td>
            <td>{formatDuration(c.duration_ms)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
