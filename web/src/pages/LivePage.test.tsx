import { render, screen } from "@testing-library/react";
import type { ApiClient } from "../api/client";
import { ApiError } from "../api/errors";
import type { LiveCall, LiveEvent } from "../api/types";
import { ApiContext } from "../hooks/apiContext";
import { LivePage } from "./LivePage";

const call: LiveCall = {
  id: "c1",
  flow: "sales",
  state: "answered",
  started_at: new Date(Date.now() - 65_000).toISOString(),
  legs: [{ id: "c1", kind: "sip", direction: "inbound", from: "sip:alice@example.com", to: "sip:sales@atende", state: "answered" }],
};

function renderWith(api: Partial<ApiClient>) {
  return render(
    <ApiContext.Provider value={{ api: api as ApiClient, logout: vi.fn() }}>
      <LivePage />
    </ApiContext.Provider>,
  );
}

describe("LivePage", () => {
  it("shows the calls the event stream reports: who, flow, state, duration", async () => {
    const followEvents = (onEvent: (e: LiveEvent) => void) => {
      onEvent({ type: "snapshot", calls: [] });
      onEvent({ type: "call.started", call });
      return new Promise<void>(() => undefined); // the stream stays open
    };
    renderWith({ followEvents });
    expect(await screen.findByText("alice → sales")).toBeTruthy();
    expect(screen.getByText("sales")).toBeTruthy();
    expect(screen.getByText("answered")).toBeTruthy();
    expect(screen.getByText(/^1:0[5-9]$/)).toBeTruthy();
    expect(screen.getByText("live")).toBeTruthy();
  });

  it("falls back to GET /api/live, and says so, on a server without /api/events", async () => {
    renderWith({
      followEvents: () => Promise.reject(new ApiError(404, "GET", "/api/events", "not found")),
      live: () => Promise.resolve([call]),
    });
    expect(await screen.findByText("alice → sales")).toBeTruthy();
    expect(screen.getByText(/not available on this server.*polling GET \/api\/live/)).toBeTruthy();
  });
});
