import { ErrorBox } from "../components/ErrorBox";
import { formatTime } from "../format";
import { useApi } from "../hooks/apiContext";
import { useAsync } from "../hooks/useAsync";

/** Configured trunks and, for those that register, how the registration stands. */
export function TrunksPage() {
  const { api } = useApi();
  const { data, error, reload } = useAsync(() => api.trunks(), [api]);
  return (
    <section>
      <h2>
        Trunks and registrations{" "}
        <button className="link" onClick={reload}>
          refresh
        </button>
      </h2>
      <ErrorBox error={error} />
      {data && data.length === 0 && <p className="empty">No trunks configured.</p>}
      {data && data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Registers</th>
              <th>State</th>
              <th>Last status</th>
              <th>Reason</th>
              <th>Since</th>
            </tr>
          </thead>
          <tbody>
            {data.map((t) => (
              <tr key={t.name}>
                <td>{t.name}</td>
                <td>{t.registers ? "yes" : "no"}</td>
                <td>
                  <span className={`state state-${t.state ?? "none"}`}>{t.state ?? "–"}</span>
                </td>
                <td>{t.last_status ?? "–"}</td>
                <td>{t.last_reason}</td>
                <td>{formatTime(t.changed_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
