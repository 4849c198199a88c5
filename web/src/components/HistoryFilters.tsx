import { useState, type FormEvent } from "react";
import { localInputToIso } from "../api/query";
import type { HistoryQuery } from "../api/types";

// Suggestions only: the field takes any end reason the server records.
const OUTCOMES = ["remote_bye", "local_bye", "busy", "no_answer", "cancelled", "unreachable", "hangup", "local_hangup", "disconnected", "rtp_timeout", "server_restart"];

export type Filters = Omit<HistoryQuery, "limit" | "before">;

/** The search form of the history page: time range, flow, outcome, direction, number. */
export function HistoryFilters({ onApply }: { onApply: (f: Filters) => void }) {
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [flow, setFlow] = useState("");
  const [outcome, setOutcome] = useState("");
  const [direction, setDirection] = useState("");
  const [number, setNumber] = useState("");

  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply({
      since: localInputToIso(since),
      until: localInputToIso(until),
      flow: flow.trim() || undefined,
      outcome: outcome.trim() || undefined,
      direction: direction || undefined,
      number: number.trim() || undefined,
    });
  };

  return (
    <form className="filters" onSubmit={submit}>
      <label>
        From <input type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
      </label>
      <label>
        To <input type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
      </label>
      <label>
        Flow <input name="flow" value={flow} onChange={(e) => setFlow(e.target.value)} size={10} />
      </label>
      <label>
        Outcome
        <input
          name="outcome"
          list="outcomes"
          value={outcome}
          onChange={(e) => setOutcome(e.target.value)}
          size={12}
        />
        <datalist id="outcomes">
          {OUTCOMES.map((o) => (
            <option key={o} value={o} />
          ))}
        </datalist>
      </label>
      <label>
        Direction
        <select value={direction} onChange={(e) => setDirection(e.target.value)}>
          <option value="">any</option>
          <option value="inbound">inbound</option>
          <option value="outbound">outbound</option>
        </select>
      </label>
      <label>
        Number
        <input
          name="number"
          inputMode="tel"
          placeholder="prefix"
          value={number}
          onChange={(e) => setNumber(e.target.value)}
          size={12}
        />
      </label>
      <button type="submit">Search</button>
    </form>
  );
}
