import type { HistoryQuery } from "./types";

/** The query string of GET /api/calls for these filters: empty values are left out. */
export function historyQueryString(q: HistoryQuery): string {
  // encodeURIComponent, not URLSearchParams: a space must go as %20 (servers differ on "+").
  const params: string[] = [];
  const entries: [keyof HistoryQuery, string | number | undefined][] = [
    ["limit", q.limit],
    ["before", q.before],
    ["since", q.since],
    ["until", q.until],
    ["flow", q.flow?.trim()],
    ["outcome", q.outcome?.trim()],
    ["direction", q.direction],
    ["number", q.number?.replace(/[^0-9+]/g, "")],
  ];
  for (const [key, value] of entries) {
    if (value !== undefined && value !== "") params.push(`${key}=${encodeURIComponent(String(value))}`);
  }
  return params.length ? `?${params.join("&")}` : "";
}

/** A <input type="datetime-local"> value (local time) as ISO-8601 UTC, or undefined if empty. */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
