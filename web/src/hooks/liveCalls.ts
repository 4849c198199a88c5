import type { LiveCall, LiveEvent } from "../api/types";

/** The live calls after one event of GET /api/events: a pure function, so it is testable. */
export function applyLiveEvent(calls: LiveCall[], event: LiveEvent): LiveCall[] {
  switch (event.type) {
    case "snapshot":
      return [...event.calls];
    case "call.ended":
      return calls.filter((c) => c.id !== event.call.id);
    case "call.started":
    case "call.answered":
    case "call.updated": {
      const i = calls.findIndex((c) => c.id === event.call.id);
      if (i < 0) return [...calls, event.call];
      const next = [...calls];
      next[i] = event.call;
      return next;
    }
    default:
      return calls;
  }
}
