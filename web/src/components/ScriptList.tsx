import type { ScriptKind } from "../api/client";
import { useApi } from "../hooks/apiContext";
import { useAsync } from "../hooks/useAsync";
import { ErrorBox } from "./ErrorBox";

/** The loaded flows or personas; picking one shows its source. */
export function ScriptList({ kind, onPick, version }: { kind: ScriptKind; onPick: (name: string) => void; version: number }) {
  const { api } = useApi();
  const { data, error } = useAsync(() => api.scripts(kind), [api, kind, version]);
  return (
    <div className="script-list">
      <h3>{kind === "flows" ? "Flows" : "Personas"}</h3>
      <ErrorBox error={error} />
      <ul>
        {(data ?? []).map((s) => (
          <li key={s.name}>
            <button className="link" onClick={() => onPick(s.name)}>
              {s.name}
            </button>{" "}
            <small>
              {s.type} · {s.file}
            </small>
            {s.description && <div className="hint">{s.description}</div>}
          </li>
        ))}
      </ul>
    </div>
  );
}
