import { useEffect, useState } from "react";

/** Date.now(), refreshed every `everyMs`: one timer per page for all its running clocks. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
  return now;
}
