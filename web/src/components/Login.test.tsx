import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { Login } from "./Login";

function stubFetch(status: number, body: unknown) {
  const fetchMock = vi.fn().mockResolvedValue(new Response(JSON.stringify(body), { status }));
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

afterEach(() => vi.unstubAllGlobals());

describe("Login", () => {
  it("refuses a token the server refuses, saying so", async () => {
    stubFetch(401, { error: "missing or invalid API token" });
    const onLogin = vi.fn();
    render(<Login onLogin={onLogin} />);
    fireEvent.change(screen.getByLabelText("API token"), { target: { value: "wrong-token" } });
    fireEvent.click(screen.getByText("Log in"));
    expect(await screen.findByRole("alert")).toHaveProperty("textContent", expect.stringContaining("token was refused"));
    expect(onLogin).not.toHaveBeenCalled();
  });

  it("checks a good token with a Bearer header, then logs in", async () => {
    const fetchMock = stubFetch(200, []);
    const onLogin = vi.fn();
    render(<Login onLogin={onLogin} />);
    fireEvent.change(screen.getByLabelText("API token"), { target: { value: " good-token-0123456789 " } });
    fireEvent.click(screen.getByText("Log in"));
    await waitFor(() => expect(onLogin).toHaveBeenCalledWith("good-token-0123456789"));
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe("/api/audit?limit=1");
    expect(init.headers.Authorization).toBe("Bearer good-token-0123456789");
  });
});
