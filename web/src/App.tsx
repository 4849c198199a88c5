import { useCallback, useMemo, useState } from "react";
import { ApiClient } from "./api/client";
import { Login } from "./components/Login";
import { Nav } from "./components/Nav";
import { ApiContext } from "./hooks/apiContext";
import { AuditPage } from "./pages/AuditPage";
import { CallPage } from "./pages/CallPage";
import { FlowsPage } from "./pages/FlowsPage";
import { HistoryPage } from "./pages/HistoryPage";
import { LivePage } from "./pages/LivePage";
import { StartCallPage } from "./pages/StartCallPage";
import { TalkPage } from "./pages/TalkPage";
import { TrunksPage } from "./pages/TrunksPage";
import { usePath } from "./router";
import { forgetToken, saveToken, savedToken } from "./session";

export function App() {
  const [token, setToken] = useState<string | null>(savedToken());
  const [loggedOutBecause, setLoggedOutBecause] = useState<string>();

  const logout = useCallback((why?: string) => {
    forgetToken();
    setToken(null);
    setLoggedOutBecause(why);
  }, []);
  const session = useMemo(() => (token ? { api: new ApiClient(token), logout } : null), [token, logout]);

  if (!session) {
    return (
      <Login
        reason={loggedOutBecause}
        onLogin={(t) => {
          saveToken(t);
          setToken(t);
        }}
      />
    );
  }
  return (
    <ApiContext.Provider value={session}>
      <Nav onLogout={() => logout()} />
      <main>
        <Page />
      </main>
    </ApiContext.Provider>
  );
}

function Page() {
  const path = usePath();
  const call = /^\/calls\/(.+)$/.exec(path);
  if (call) return <CallPage id={decodeURIComponent(call[1])} />;
  switch (path) {
    case "/":
    case "/live":
      return <LivePage />;
    case "/history":
      return <HistoryPage />;
    case "/start":
      return <StartCallPage />;
    case "/talk":
      return <TalkPage />;
    case "/flows":
      return <FlowsPage />;
    case "/trunks":
      return <TrunksPage />;
    case "/audit":
      return <AuditPage />;
    default:
      return <p className="notice error">No page at {path}.</p>;
  }
}
