export type VariableRow = { name: string; value: string };

/** Name/value rows for a call's variables (they reach flow templates and persona prompts). */
export function VariablesEditor({ rows, onChange }: { rows: VariableRow[]; onChange: (rows: VariableRow[]) => void }) {
  const set = (i: number, patch: Partial<VariableRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="variables">
      <legend>Variables</legend>
      {rows.map((r, i) => (
        <div key={i} className="variable">
          <input aria-label={`variable ${i + 1} name`} placeholder="name" value={r.name} onChange={(e) => set(i, { name: e.target.value })} />
          <input aria-label={`variable ${i + 1} value`} placeholder="value" value={r.value} onChange={(e) => set(i, { value: e.target.value })} />
          <button type="button" className="link" onClick={() => onChange(rows.filter((_, j) => j !== i))}>
            remove
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...rows, { name: "", value: "" }])}>
        Add variable
      </button>
    </fieldset>
  );
}
