import type { CallEvent } from "../api/types";
import { formatTime } from "../format";

export function EventList({ events }: { events: CallEvent[] }) {
  if (events.length === 0) return <p className="empty">No events.</p>;
  return (
    <table className="events">
      <tbody>
        {events.map((e, i) => (
          <tr key={i}>
            <td className="at">{formatTime(e.at)}</td>
            <td className="kind">{e.kind}</td>
            <td>{e.detail}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
