import { bearerProtocol, floatToPcm16, newSessionId, pcm16BytesToFloat } from "./pcm";

describe("talk PCM helpers", () => {
  it("converts floats to 16-bit PCM with clipping, and back", () => {
    const pcm = floatToPcm16(new Float32Array([0, 1, -1, 2, -2, 0.5]));
    expect(Array.from(pcm)).toEqual([0, 32767, -32768, 32767, -32768, 16384]);
    const back = pcm16BytesToFloat(pcm.buffer);
    expect(back[2]).toBe(-1);
    expect(back).toHaveLength(6);
  });

  it("puts the token in a subprotocol as base64url without padding", () => {
    expect(bearerProtocol("test-token-0123456789abcdef")).toBe("bearer.dGVzdC10b2tlbi0wMTIzNDU2Nzg5YWJjZGVm");
    expect(bearerProtocol("\u00ff\u00fe?")).toBe("bearer.w7_Dvj8");
  });

  it("makes session ids atende accepts (8-4-4-4-12 hex)", () => {
    expect(newSessionId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});
