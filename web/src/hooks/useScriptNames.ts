import type { ScriptKind } from "../api/client";
import { useApi } from "./apiContext";
import { useAsync } from "./useAsync";

/** Names of the loaded flows or personas; empty (with the error) when the server cannot list them. */
export function useScriptNames(kind: ScriptKind) {
  const { api } = useApi();
  const state = useAsync(() => api.scripts(kind), [api, kind]);
  return { names: (state.data ?? []).map((s) => s.name), error: state.error };
}
