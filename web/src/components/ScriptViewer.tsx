import { useEffect, useState } from "react";
import type { ScriptKind } from "../api/client";
import type { ValidateResult } from "../api/types";
import { useApi } from "../hooks/apiContext";
import { useAsync } from "../hooks/useAsync";
import { ErrorBox } from "./ErrorBox";

/** A flow's or persona's YAML, editable in place to validate a change (nothing is written). */
export function ScriptViewer({ kind, name }: { kind: ScriptKind; name: string }) {
  const { api } = useApi();
  const { data, error } = useAsync(() => api.script(kind, name), [api, kind, name]);
  const [text, setText] = useState("");
  const [result, setResult] = useState<ValidateResult>();
  const [validateError, setValidateError] = useState<Error>();

  useEffect(() => {
    setText(data?.yaml ?? "");
    setResult(undefined);
  }, [data]);

  const validate = async () => {
    setValidateError(undefined);
    setResult(undefined);
    try {
      setResult(await api.validateFlows(text));
    } catch (e) {
      setValidateError(e as Error);
    }
  };

  return (
    <div className="script-viewer">
      <h3>
        {name} {data && <small>({data.file})</small>}
      </h3>
      <ErrorBox error={error} />
      <textarea value={text} onChange={(e) => setText(e.target.value)} rows={24} spellCheck={false} aria-label="YAML source" />
      {kind === "flows" && (
        <div className="actions">
          <button onClick={validate}>Validate</button>
          <span className="hint">checks the text above; nothing is saved</span>
        </div>
      )}
      <ErrorBox error={validateError} />
      {result?.ok === true && <div className="notice ok">Valid: {result.flows.join(", ")}</div>}
      {result?.ok === false && (
        <ul className="notice error">
          {result.errors.map((e, i) => (
            <li key={i}>
              {e.line !== null && <b>line {e.line}: </b>}
              {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
