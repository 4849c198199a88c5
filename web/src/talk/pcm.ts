// PCM helpers of the talk page (pure, so they are tested without a browser).

export const RATE = 16000;
/** 20 ms at 16 kHz: what ASP frames carry (640 bytes). */
export const FRAME_SAMPLES = 320;

/** Float samples in [-1, 1] as signed 16-bit little-endian PCM (clipped). */
export function floatToPcm16(input: Float32Array): Int16Array {
  const out = new Int16Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const s = Math.max(-1, Math.min(1, input[i]));
    out[i] = s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff);
  }
  return out;
}

/** 16-bit PCM bytes (little-endian, as ASP sends them) as float samples; an odd byte is dropped. */
export function pcm16BytesToFloat(bytes: ArrayBuffer): Float32Array {
  const view = new DataView(bytes);
  const n = Math.floor(bytes.byteLength / 2);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true) / 0x8000;
  return out;
}

/** The token as a WebSocket subprotocol: "bearer." + base64url without padding (the contract). */
export function bearerProtocol(token: string): string {
  const bytes = new TextEncoder().encode(token);
  let binary = "";
  bytes.forEach((b) => (binary += String.fromCharCode(b)));
  return "bearer." + btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A v4 UUID; crypto.randomUUID exists only in secure contexts, so fall back to random bytes. */
export function newSessionId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
