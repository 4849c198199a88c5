import type { LiveEvent } from "./types";

/**
 * Incremental parser of a text/event-stream body: feed() it decoded chunks as they arrive,
 * it returns the events completed by that chunk. Each `data:` line carries one JSON event
 * (the contract of GET /api/events); comments (`: ping`) and other fields are skipped, and a
 * line that is not valid JSON is dropped rather than stopping the stream.
 */
export class SseParser {
  private pending = "";
  // A line never grows past this: a hostile or broken stream cannot eat the tab's memory.
  static readonly maxLine = 1 << 20;

  feed(chunk: string): LiveEvent[] {
    this.pending += chunk;
    const events: LiveEvent[] = [];
    let newline: number;
    while ((newline = this.pending.indexOf("\n")) >= 0) {
      const line = this.pending.slice(0, newline).replace(/\r$/, "");
      this.pending = this.pending.slice(newline + 1);
      const event = parseLine(line);
      if (event) events.push(event);
    }
    if (this.pending.length > SseParser.maxLine) this.pending = "";
    return events;
  }
}

function parseLine(line: string): LiveEvent | null {
  if (!line.startsWith("data:")) return null;
  try {
    const value = JSON.parse(line.slice(5).trimStart());
    return value && typeof value.type === "string" ? (value as LiveEvent) : null;
  } catch {
    return null;
  }
}
