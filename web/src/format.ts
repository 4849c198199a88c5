/** "1:05" or "1:02:05" for a duration in milliseconds. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms < 0) return "–";
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** A server time (ISO-8601 UTC) in the browser's local time, to the second. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { hour12: false });
}

/** The user part of a SIP URI ("sip:alice@host" -> "alice"), or the text as it is. */
export function shortParty(uri: string): string {
  const m = /^sips?:([^@;]+)@/.exec(uri);
  return m ? m[1] : uri;
}
