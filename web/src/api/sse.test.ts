import { SseParser } from "./sse";

describe("SseParser", () => {
  it("returns events whole even when a chunk cuts a line", () => {
    const p = new SseParser();
    expect(p.feed('data: {"type":"snapshot","cal')).toEqual([]);
    expect(p.feed('ls":[]}\n\n')).toEqual([{ type: "snapshot", calls: [] }]);
  });

  it("skips pings, other fields and lines that are not JSON events", () => {
    const p = new SseParser();
    const events = p.feed(': ping\nevent: x\ndata: not json\ndata: {"no":"type"}\r\ndata: {"type":"call.ended","call":{"id":"a"}}\r\n');
    expect(events).toEqual([{ type: "call.ended", call: { id: "a" } }]);
  });

  it("drops a line that never ends instead of growing without bound", () => {
    const p = new SseParser();
    p.feed("data: " + "x".repeat(SseParser.maxLine + 1));
    expect(p.feed('\ndata: {"type":"snapshot","calls":[]}\n')).toEqual([{ type: "snapshot", calls: [] }]);
  });
});
