import type { LiveCall } from "../api/types";
import { applyLiveEvent } from "./liveCalls";

const call = (id: string, state = "ringing"): LiveCall => ({ id, flow: "ivr", state, started_at: "2026-12-05T10:00:00.000Z", legs: [] });

describe("applyLiveEvent", () => {
  it("starts from the snapshot, adds, updates in place and removes", () => {
    let calls = applyLiveEvent([call("old")], { type: "snapshot", calls: [call("a")] });
    expect(calls.map((c) => c.id)).toEqual(["a"]);
    calls = applyLiveEvent(calls, { type: "call.started", call: call("b") });
    calls = applyLiveEvent(calls, { type: "call.answered", call: call("a", "answered") });
    expect(calls.map((c) => [c.id, c.state])).toEqual([["a", "answered"], ["b", "ringing"]]);
    calls = applyLiveEvent(calls, { type: "call.ended", call: call("a") });
    expect(calls.map((c) => c.id)).toEqual(["b"]);
  });

  it("treats an update of an unknown call as a new call", () => {
    expect(applyLiveEvent([], { type: "call.updated", call: call("x") })).toHaveLength(1);
  });
});
