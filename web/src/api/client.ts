import { ApiError } from "./errors";
import { historyQueryString } from "./query";
import { SseParser } from "./sse";
import type {
  AuditEntry,
  CallDetail,
  CallSummary,
  HistoryQuery,
  LiveCall,
  LiveEvent,
  OriginateRequest,
  ReloadResult,
  ScriptInfo,
  ScriptSource,
  Trunk,
  ValidateResult,
} from "./types";

export type ScriptKind = "flows" | "personas";

/**
 * A thin typed client of atende's API on the console's own origin. Every request carries
 * the token as `Authorization: Bearer`; errors become ApiError with the server's message.
 */
export class ApiClient {
  constructor(
    private readonly token: string,
    private readonly base = "",
    private readonly fetcher: typeof fetch = (...args) => fetch(...args),
  ) {}

  /** Throws ApiError(401) when the server refuses the token. GET /api/audit always needs one. */
  async checkToken(): Promise<void> {
    await this.get<AuditEntry[]>("/api/audit?limit=1");
  }

  calls(q: HistoryQuery): Promise<CallSummary[]> {
    return this.get(`/api/calls${historyQueryString(q)}`);
  }
  call(id: string): Promise<CallDetail> {
    return this.get(`/api/calls/${encodeURIComponent(id)}`);
  }
  live(): Promise<LiveCall[]> {
    return this.get("/api/live");
  }
  trunks(): Promise<Trunk[]> {
    return this.get("/api/trunks");
  }
  audit(limit: number, offset: number): Promise<AuditEntry[]> {
    return this.get(`/api/audit?limit=${limit}&offset=${offset}`);
  }
  scripts(kind: ScriptKind): Promise<ScriptInfo[]> {
    return this.get(`/api/${kind}`);
  }
  script(kind: ScriptKind, name: string): Promise<ScriptSource> {
    return this.get(`/api/${kind}/${encodeURIComponent(name)}`);
  }

  originate(req: OriginateRequest): Promise<{ id: string }> {
    return this.send("POST", "/api/calls", req);
  }
  hangup(id: string): Promise<unknown> {
    return this.send("POST", `/api/calls/${encodeURIComponent(id)}/hangup`);
  }
  transfer(id: string, to: string): Promise<unknown> {
    return this.send("POST", `/api/calls/${encodeURIComponent(id)}/transfer`, { to });
  }
  /** 422 is an answer here, not a failure: the YAML's errors. */
  validateFlows(yaml: string): Promise<ValidateResult> {
    return this.send("POST", "/api/flows/validate", { yaml }, [422]);
  }
  reload(): Promise<ReloadResult> {
    return this.send("POST", "/api/reload");
  }

  /** The recording as a blob URL (an <audio> element cannot send the token itself). */
  async recordingUrl(path: string): Promise<string> {
    const res = await this.request("GET", path);
    return URL.createObjectURL(await res.blob());
  }

  /**
   * Follows GET /api/events (Server-Sent Events) with fetch so the token stays in a header;
   * calls onEvent for each event until the stream ends (resolves) or fails (rejects).
   */
  async followEvents(onEvent: (e: LiveEvent) => void, signal: AbortSignal): Promise<void> {
    const res = await this.request("GET", "/api/events", undefined, [], signal);
    if (!res.body) throw new ApiError(0, "GET", "/api/events", "no response body");
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      for (const event of parser.feed(value)) onEvent(event);
    }
  }

  private async get<T>(path: string): Promise<T> {
    const res = await this.request("GET", path);
    return (await res.json()) as T;
  }

  private async send<T>(method: string, path: string, body?: unknown, okStatuses: number[] = []): Promise<T> {
    const res = await this.request(method, path, body, okStatuses);
    const text = await res.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  private async request(
    method: string,
    path: string,
    body?: unknown,
    okStatuses: number[] = [],
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await this.fetcher(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (e) {
      if ((e as Error).name === "AbortError") throw e;
      throw new ApiError(0, method, path, (e as Error).message);
    }
    if (!res.ok && !okStatuses.includes(res.status)) {
      throw new ApiError(res.status, method, path, await errorMessage(res));
    }
    return res;
  }
}

async function errorMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed.error === "string") return parsed.error;
  } catch {
    /* not JSON: use the text */
  }
  return text.slice(0, 200);
}
