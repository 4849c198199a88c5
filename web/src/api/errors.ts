/** An HTTP error from the API, with the server's own message ({"error": "..."}) when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly serverMessage: string,
  ) {
    super(describe(status, method, path, serverMessage));
    this.name = "ApiError";
  }

  /** The route is not on this server (an older atende), as opposed to "no such call". */
  get missingRoute(): boolean {
    return (this.status === 404 && (this.serverMessage === "" || this.serverMessage === "not found")) || this.status === 405;
  }
}

function describe(status: number, method: string, path: string, serverMessage: string): string {
  const route = `${method} ${path.split("?")[0]}`;
  if (status === 0) return `${route}: cannot reach the server (${serverMessage})`;
  if (status === 401) return `${route}: the token was refused (401 ${serverMessage || "unauthorized"})`;
  if (status === 404 && (serverMessage === "" || serverMessage === "not found"))
    return `${route} is not available on this server (404): it needs a newer atende`;
  if (status === 405) return `${route} is not available on this server (405 method not allowed)`;
  return `${route}: ${status} ${serverMessage || "error"}`;
}
