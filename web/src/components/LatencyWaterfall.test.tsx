import { render, screen } from "@testing-library/react";
import type { Turn } from "../api/types";
import { LatencyWaterfall, waterfallSteps } from "./LatencyWaterfall";

const turn: Turn = {
  index: 1,
  user_text: "hello",
  agent_text: "hi",
  interrupted: false,
  error: "",
  speech_end_ms: 8000,
  stt_final_ms: 8300,
  first_token_ms: 8700,
  first_audio_ms: 8750,
  first_play_ms: 8790,
};

describe("LatencyWaterfall", () => {
  it("measures each stage from the end of speech", () => {
    expect(waterfallSteps(turn).map((s) => [s.at, s.delta])).toEqual([
      [0, 0],
      [300, 300],
      [700, 400],
      [750, 50],
      [790, 40],
    ]);
  });

  it("shows a stage that did not happen as a dash and keeps the others", () => {
    const steps = waterfallSteps({ ...turn, first_token_ms: null });
    expect(steps[2].at).toBeNull();
    expect(steps[3]).toMatchObject({ at: 750, delta: 450 });
  });

  it("renders one row per stage with the time after end of speech", () => {
    render(<LatencyWaterfall turn={turn} />);
    expect(screen.getByLabelText("latency of turn 1")).toBeTruthy();
    expect(screen.getByText("first RTP")).toBeTruthy();
    expect(screen.getByText("+790 ms")).toBeTruthy();
  });

  it("renders nothing for a turn without timings (the greeting)", () => {
    const { container } = render(<LatencyWaterfall turn={{ ...turn, speech_end_ms: null }} />);
    expect(container.innerHTML).toBe("");
  });
});
