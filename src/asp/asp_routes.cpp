#include "asp/asp_routes.h"

#include <unistd.h>

#include "asp/asp_credentials.h"

namespace atende::asp {

namespace {

api::HttpResponse unauthorized() {
  api::HttpResponse e = api::HttpResponse::error(401, "a valid Bearer token is required");
  e.headers.emplace_back("WWW-Authenticate", "Bearer");
  return e;
}

// The upgrade's verdict: 101, or the refusal sent as plain HTTP. A 401 here counts against
// the address's failed-authentication budget (the API guard sees the reply).
api::HttpResponse check_upgrade(const AspRoutesContext& ctx, const api::HttpRequest& r) {
  const OfferedSubprotocols offered = parse_subprotocols(r.header("Sec-WebSocket-Protocol"));
  if (offered.present && !offered.asp) {
    // A browser fails a handshake whose reply names none of its subprotocols: say why here.
    return api::HttpResponse::error(400, "Sec-WebSocket-Protocol must include atende-asp");
  }
  if (offered.malformed) return unauthorized();
  if (ctx.require_token) {
    if (!ctx.auth) return unauthorized();
    // The subprotocol's token when there is one, else the header's; both compared in
    // constant time over their digests (api::ApiAuth).
    const bool ok = offered.bearer ? ctx.auth->find_secret(*offered.bearer) != nullptr
                                   : ctx.auth->authenticate(r.header("Authorization")) != nullptr;
    if (!ok) return unauthorized();
  }
  api::HttpResponse ok;
  ok.status = 101;
  return ok;
}

}  // namespace

void install_asp_routes(api::HttpServer& server, AspRoutesContext ctx) {
  server.upgrade("/asp",
                 api::UpgradeRoute{
                     .check = [ctx](const api::HttpRequest& r) { return check_upgrade(ctx, r); },
                     .take =
                         [ctx](const api::HttpRequest& r, int fd) {
                           if (ctx.front)
                             ctx.front->accept(r, fd);
                           else
                             ::close(fd);  // a route table without the front (tests)
                         },
                 });
  server.route("GET", "/asp", [](const api::HttpRequest&) {
    api::HttpResponse r = api::HttpResponse::error(426, "/asp is a WebSocket: send an upgrade");
    r.headers.emplace_back("Upgrade", "websocket");
    return r;
  });
}

}  // namespace atende::asp
