import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../api/errors";
import { useApi } from "./apiContext";

export interface AsyncState<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs load() when deps change (and on reload()), keeping the last data while a new load is
 * under way. A 401 logs out: the token was revoked or the server restarted with others.
 */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): AsyncState<T> {
  const { logout } = useApi();
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  const current = useRef(0);

  useEffect(() => {
    const mine = ++current.current;
    setLoading(true);
    load().then(
      (value) => {
        if (mine !== current.current) return;
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (e: Error) => {
        if (mine !== current.current) return;
        if (e instanceof ApiError && e.status === 401) logout(e.message);
        setError(e);
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, round]);

  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { data, error, loading, reload };
}
