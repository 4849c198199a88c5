import { useState, type FormEvent } from "react";
import { ApiClient } from "../api/client";

interface Props {
  onLogin: (token: string) => void;
  reason?: string;
}

/** Asks for an API token and checks it against the server before keeping it. */
export function Login({ onLogin, reason }: Props) {
  const [token, setToken] = useState("");
  const [error, setError] = useState(reason ?? "");
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      await new ApiClient(token.trim()).checkToken();
      onLogin(token.trim());
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="login" onSubmit={submit}>
      <h1>atende console</h1>
      <label>
        API token
        <input
          type="password"
          name="token"
          autoComplete="current-password"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          autoFocus
        />
      </label>
      <button type="submit" disabled={busy || token.trim() === ""}>
        Log in
      </button>
      {error && (
        <div className="notice error" role="alert">
          {error}
        </div>
      )}
      <p className="hint">One of the <code>api_tokens</code> in atende's config file.</p>
    </form>
  );
}
