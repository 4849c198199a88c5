import { useState } from "react";
import type { ScriptKind } from "../api/client";
import type { ReloadResult } from "../api/types";
import { ErrorBox } from "../components/ErrorBox";
import { ScriptList } from "../components/ScriptList";
import { ScriptViewer } from "../components/ScriptViewer";
import { useApi } from "../hooks/apiContext";

/** Flows and personas: list, view, validate, reload from disk. */
export function FlowsPage() {
  const { api } = useApi();
  const [picked, setPicked] = useState<{ kind: ScriptKind; name: string }>();
  const [version, setVersion] = useState(0);
  const [reloaded, setReloaded] = useState<ReloadResult>();
  const [reloadError, setReloadError] = useState<Error>();

  const reload = async () => {
    setReloaded(undefined);
    setReloadError(undefined);
    try {
      setReloaded(await api.reload());
      setVersion((v) => v + 1);
    } catch (e) {
      setReloadError(e as Error);
    }
  };

  return (
    <section>
      <h2>Flows and personas</h2>
      <div className="actions">
        <button onClick={reload}>Reload from disk</button>
        {reloaded && (
          <span className="notice ok">
            Reloaded {reloaded.flows} flows and {reloaded.personas} personas
          </span>
        )}
      </div>
      <ErrorBox error={reloadError} />
      <div className="columns">
        <div>
          <ScriptList kind="flows" version={version} onPick={(name) => setPicked({ kind: "flows", name })} />
          <ScriptList kind="personas" version={version} onPick={(name) => setPicked({ kind: "personas", name })} />
        </div>
        {picked && <ScriptViewer key={`${picked.kind}/${picked.name}/${version}`} kind={picked.kind} name={picked.name} />}
      </div>
    </section>
  );
}
