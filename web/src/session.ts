// The API token lives in sessionStorage: it survives a reload, not the tab.
const KEY = "atende.token";

export function savedToken(): string | null {
  return window.sessionStorage.getItem(KEY);
}
export function saveToken(token: string): void {
  window.sessionStorage.setItem(KEY, token);
}
export function forgetToken(): void {
  window.sessionStorage.removeItem(KEY);
}
