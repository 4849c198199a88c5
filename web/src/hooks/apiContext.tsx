import { createContext, useContext } from "react";
import type { ApiClient } from "../api/client";

export interface ApiSession {
  api: ApiClient;
  logout: (why?: string) => void;
}

export const ApiContext = createContext<ApiSession | null>(null);

export function useApi(): ApiSession {
  const session = useContext(ApiContext);
  if (!session) throw new Error("useApi outside a logged-in console");
  return session;
}
