// GET /asp as a WebSocket upgrade (docs/asp.md "Connecting"): the token check (unless
// asp_require_token is off; the token in the Authorization header, or a browser's in the
// subprotocol list, asp/asp_credentials.h), then the socket goes to the ASP front-end. A
// plain GET /asp (no upgrade) gets 426. Refusals (401) count against the address's
// failed-authentication budget: the API guard (api/api_guard.h) watches /asp's replies.
#pragma once
#include "api/api_auth.h"
#include "api/http_server.h"
#include "asp/asp_front.h"

namespace atende::asp {

struct AspRoutesContext {
  AspFront* front = nullptr;
  const api::ApiAuth* auth = nullptr;
  bool require_token = true;
};

void install_asp_routes(api::HttpServer& server, AspRoutesContext ctx);

}  // namespace atende::asp
