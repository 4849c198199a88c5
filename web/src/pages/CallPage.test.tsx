import { render, screen } from "@testing-library/react";
import type { ApiClient } from "../api/client";
import { ApiError } from "../api/errors";
import type { CallDetail } from "../api/types";
import { ApiContext } from "../hooks/apiContext";
import { CallPage } from "./CallPage";

const call: CallDetail = {
  id: "c1",
  direction: "inbound",
  from: "sip:alice@example.com",
  to: "sip:sales@atende",
  leg_kind: "sip",
  flow: "sales",
  started_at: "2026-12-05T10:00:00.000Z",
  answered_at: "2026-12-05T10:00:01.000Z",
  ended_at: "2026-12-05T10:00:20.000Z",
  end_reason: "local_bye",
  sip_status: null,
  digits: "",
  duration_ms: 20000,
  events: [{ at: "2026-12-05T10:00:01.000Z", kind: "answered", detail: "PCMU" }],
  turns: [
    { index: 0, user_text: "", agent_text: "Hi, this is Alex.", interrupted: false, error: "" },
    {
      index: 1,
      user_text: "Tell me more",
      agent_text: "Gladly.",
      interrupted: true,
      error: "",
      speech_end_ms: 9000,
      stt_final_ms: 9200,
      first_token_ms: 9500,
      first_audio_ms: 9550,
      first_play_ms: 9600,
    },
  ],
  legs: [],
  recording: { url: "/api/calls/c1/recording", bytes: 64000, format: "wav" },
};

function renderWith(api: Partial<ApiClient>) {
  return render(
    <ApiContext.Provider value={{ api: api as ApiClient, logout: vi.fn() }}>
      <CallPage id="c1" />
    </ApiContext.Provider>,
  );
}

describe("CallPage", () => {
  it("shows the transcript turn by turn, the waterfall of the answered turn, events and the recording", async () => {
    renderWith({ call: () => Promise.resolve(call) });
    expect(await screen.findByText("Tell me more")).toBeTruthy();
    expect(screen.getByText("Hi, this is Alex.")).toBeTruthy();
    expect(screen.getByText("interrupted")).toBeTruthy();
    expect(screen.getByLabelText("latency of turn 1")).toBeTruthy();
    expect(screen.queryByLabelText("latency of turn 0")).toBeNull();
    expect(screen.getByText("+600 ms")).toBeTruthy();
    expect(screen.getByText("PCMU")).toBeTruthy();
    expect(screen.getByText(/Load recording \(wav, 63 KiB\)/)).toBeTruthy();
    expect(screen.getByTestId("call-state").textContent).toBe("ended");
  });

  it("says when the call does not exist", async () => {
    renderWith({ call: () => Promise.reject(new ApiError(404, "GET", "/api/calls/c1", "call not found")) });
    expect((await screen.findByRole("alert")).textContent).toBe("GET /api/calls/c1: 404 call not found");
  });
});
