import { useState, type FormEvent } from "react";
import { useApi } from "../hooks/apiContext";

/** Hang up and transfer buttons of one live call, with the server's answer when it fails. */
export function CallActions({ callId }: { callId: string }) {
  const { api } = useApi();
  const [transferring, setTransferring] = useState(false);
  const [target, setTarget] = useState("");
  const [message, setMessage] = useState("");

  const run = async (what: string, action: () => Promise<unknown>) => {
    setMessage(`${what}…`);
    try {
      await action();
      setMessage(`${what}: asked`);
      setTransferring(false);
    } catch (e) {
      setMessage((e as Error).message);
    }
  };

  const transfer = (e: FormEvent) => {
    e.preventDefault();
    if (target.trim()) run("Transfer", () => api.transfer(callId, target.trim()));
  };

  return (
    <div className="actions">
      <button className="danger" onClick={() => run("Hang up", () => api.hangup(callId))}>
        Hang up
      </button>
      {transferring ? (
        <form onSubmit={transfer} className="inline">
          <input
            aria-label="transfer to"
            placeholder="number or sip: URI"
            value={target}
            onChange={(e) => setTarget(e.target.value)}
            autoFocus
          />
          <button type="submit">Transfer</button>
          <button type="button" className="link" onClick={() => setTransferring(false)}>
            cancel
          </button>
        </form>
      ) : (
        <button onClick={() => setTransferring(true)}>Transfer…</button>
      )}
      {message && <span className="action-message">{message}</span>}
    </div>
  );
}
