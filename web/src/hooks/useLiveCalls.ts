import { useEffect, useState } from "react";
import { ApiError } from "../api/errors";
import type { LiveCall } from "../api/types";
import { useApi } from "./apiContext";
import { applyLiveEvent } from "./liveCalls";

export type LiveMode = "connecting" | "events" | "polling";

export interface LiveState {
  calls: LiveCall[];
  mode: LiveMode;
  /** Why updates are not live, or what went wrong last; empty when all is well. */
  notice: string;
}

const POLL_MS = 2000;
const RETRY_MS = 3000;

/**
 * The calls up now, kept current by GET /api/events (SSE). A server without that route gets
 * GET /api/live every 2 s instead, and the page says so; a dropped stream reconnects.
 */
export function useLiveCalls(): LiveState {
  const { api, logout } = useApi();
  const [state, setState] = useState<LiveState>({ calls: [], mode: "connecting", notice: "" });

  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopped = () => abort.signal.aborted;

    const poll = async () => {
      try {
        const calls = await api.live();
        if (!stopped()) setState((s) => ({ ...s, calls, mode: "polling" }));
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return logout(e.message);
        if (!stopped()) setState((s) => ({ ...s, notice: (e as Error).message }));
      }
      if (!stopped()) timer = setTimeout(poll, POLL_MS);
    };

    const follow = async () => {
      try {
        await api.followEvents((event) => {
          setState((s) => ({ calls: applyLiveEvent(s.calls, event), mode: "events", notice: "" }));
        }, abort.signal);
        if (!stopped()) setState((s) => ({ ...s, notice: "the event stream ended; reconnecting" }));
      } catch (e) {
        if (stopped()) return;
        if (e instanceof ApiError && e.status === 401) return logout(e.message);
        if (e instanceof ApiError && e.missingRoute) {
          setState((s) => ({
            ...s,
            mode: "polling",
            notice: `${e.message}; polling GET /api/live every ${POLL_MS / 1000} s instead`,
          }));
          return poll();
        }
        setState((s) => ({ ...s, notice: `${(e as Error).message}; reconnecting` }));
      }
      if (!stopped()) timer = setTimeout(follow, RETRY_MS);
    };

    follow();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [api, logout]);

  return state;
}
