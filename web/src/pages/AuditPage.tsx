import { useState } from "react";
import { ErrorBox } from "../components/ErrorBox";
import { formatTime } from "../format";
import { useApi } from "../hooks/apiContext";
import { useAsync } from "../hooks/useAsync";

const PAGE = 50;

/** Every API write (who, from where, what, with what result), newest first. */
export function AuditPage() {
  const { api } = useApi();
  const [offset, setOffset] = useState(0);
  const { data, error } = useAsync(() => api.audit(PAGE, offset), [api, offset]);
  const rows = data ?? [];
  return (
    <section>
      <h2>Audit log</h2>
      <ErrorBox error={error} />
      <table className="audit">
        <thead>
          <tr>
            <th>When</th>
            <th>Token</th>
            <th>Source</th>
            <th>Request</th>
            <th>Status</th>
            <th>Detail</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((a) => (
            <tr key={a.id}>
              <td>{formatTime(a.at)}</td>
              <td>{a.token || <i>none</i>}</td>
              <td>{a.source}</td>
              <td>
                {a.method} {a.path}
              </td>
              <td className={a.status >= 400 ? "status-bad" : "status-ok"}>{a.status}</td>
              <td>{a.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="pager">
        <button disabled={offset === 0} onClick={() => setOffset((o) => Math.max(0, o - PAGE))}>
          ← Newer
        </button>
        <button disabled={rows.length < PAGE} onClick={() => setOffset((o) => o + PAGE)}>
          Older →
        </button>
      </div>
    </section>
  );
}
