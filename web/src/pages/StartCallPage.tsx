import { useState, type FormEvent } from "react";
import type { OriginateRequest } from "../api/types";
import { ApiError } from "../api/errors";
import { VariablesEditor, type VariableRow } from "../components/VariablesEditor";
import { useApi } from "../hooks/apiContext";
import { useScriptNames } from "../hooks/useScriptNames";
import { navigate } from "../router";

/** The request body of the form's fields; throws Error with a sentence for a bad field. */
export function buildOriginate(f: {
  to: string;
  kind: "flow" | "persona";
  name: string;
  customerName: string;
  trunk: string;
  callerId: string;
  variables: VariableRow[];
}): OriginateRequest {
  if (!f.to.trim()) throw new Error("Say whom to call: a number or a sip: URI.");
  if (!f.name.trim()) throw new Error(`Choose a ${f.kind}.`);
  const variables: Record<string, string> = {};
  for (const v of f.variables) {
    if (!v.name.trim()) continue;
    if (!/^[A-Za-z0-9_]{1,64}$/.test(v.name.trim())) throw new Error(`Variable name '${v.name}' must be letters, digits or _.`);
    variables[v.name.trim()] = v.value;
  }
  if (f.customerName.trim()) variables.customer_name = f.customerName.trim();
  const req: OriginateRequest = { to: f.to.trim(), [f.kind]: f.name.trim() };
  if (f.trunk.trim()) req.trunk = f.trunk.trim();
  if (f.callerId.trim()) req.caller_id = f.callerId.trim();
  if (Object.keys(variables).length > 0) req.variables = variables;
  return req;
}

/** Places a call (POST /api/calls) and opens its page, where it is seen ringing and answered. */
export function StartCallPage() {
  const { api } = useApi();
  const [to, setTo] = useState("");
  const [kind, setKind] = useState<"flow" | "persona">("flow");
  const [name, setName] = useState("");
  const [customerName, setCustomerName] = useState("");
  const [trunk, setTrunk] = useState("");
  const [callerId, setCallerId] = useState("");
  const [variables, setVariables] = useState<VariableRow[]>([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const flows = useScriptNames("flows");
  const personas = useScriptNames("personas");
  const names = kind === "flow" ? flows.names : personas.names;
  const listError = (kind === "flow" ? flows.error : personas.error) as ApiError | undefined;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError("");
    try {
      const req = buildOriginate({ to, kind, name, customerName, trunk, callerId, variables });
      setBusy(true);
      const { id } = await api.originate(req);
      navigate(`/calls/${encodeURIComponent(id)}`);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h2>Start a call</h2>
      <form className="start-call" onSubmit={submit}>
        <label>
          Number or URI
          <input name="to" value={to} onChange={(e) => setTo(e.target.value)} placeholder="+5511999990000 or sip:1001@pbx" />
        </label>
        <div className="choice">
          <label>
            <input type="radio" name="kind" checked={kind === "flow"} onChange={() => setKind("flow")} /> flow
          </label>
          <label>
            <input type="radio" name="kind" checked={kind === "persona"} onChange={() => setKind("persona")} /> persona
          </label>
        </div>
        <label>
          {kind === "flow" ? "Flow" : "Persona"}
          <input name="script" list="script-names" value={name} onChange={(e) => setName(e.target.value)} />
          <datalist id="script-names">
            {names.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
          {listError && <small className="hint">Cannot list them ({listError.message}): type the name.</small>}
        </label>
        <label>
          Customer name
          <input name="customer_name" value={customerName} onChange={(e) => setCustomerName(e.target.value)} />
        </label>
        <label>
          Trunk <input name="trunk" value={trunk} onChange={(e) => setTrunk(e.target.value)} placeholder="the dial plan's choice" />
        </label>
        <label>
          Caller ID <input name="caller_id" value={callerId} onChange={(e) => setCallerId(e.target.value)} />
        </label>
        <VariablesEditor rows={variables} onChange={setVariables} />
        <button type="submit" disabled={busy}>
          Call
        </button>
        {error && (
          <div className="notice error" role="alert">
            {error}
          </div>
        )}
      </form>
    </section>
  );
}
