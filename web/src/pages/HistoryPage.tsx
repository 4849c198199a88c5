import { useState } from "react";
import { CallTable } from "../components/CallTable";
import { ErrorBox } from "../components/ErrorBox";
import { HistoryFilters, type Filters } from "../components/HistoryFilters";
import { useApi } from "../hooks/apiContext";
import { useAsync } from "../hooks/useAsync";

const PAGE = 25;

/**
 * Call history with the server doing the work: filters and keyset paging (`before` = the
 * last call of this page). A page shorter than PAGE is the last one.
 */
export function HistoryPage() {
  const { api } = useApi();
  const [filters, setFilters] = useState<Filters>({});
  // The `before` cursor of each page seen so far: [undefined] is the first page.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const before = cursors[cursors.length - 1];
  const { data, error, loading, reload } = useAsync(
    () => api.calls({ ...filters, limit: PAGE, before }),
    [api, filters, before],
  );

  const apply = (f: Filters) => {
    setFilters(f);
    setCursors([undefined]);
  };
  const calls = data ?? [];
  const last = calls[calls.length - 1];

  return (
    <section>
      <h2>History</h2>
      <HistoryFilters onApply={apply} />
      <ErrorBox error={error} />
      {calls.length === 0 && !loading && !error ? <p className="empty">No calls match.</p> : <CallTable calls={calls} />}
      <div className="pager">
        <button disabled={cursors.length === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          ← Newer
        </button>
        <span>page {cursors.length}</span>
        <button
          disabled={calls.length < PAGE || !last}
          onClick={() => last && setCursors((c) => [...c, last.id])}
        >
          Older →
        </button>
        <button className="link" onClick={reload}>
          refresh
        </button>
      </div>
    </section>
  );
}
