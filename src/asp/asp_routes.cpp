#include "asp/asp_routes.h"

#include <unistd.h>

namespace atende::asp {

void install_asp_routes(api::HttpServer& server, AspRoutesContext ctx) {
  server.upgrade("/asp",
                 api::UpgradeRoute{
                     .check =
                         [ctx](const api::HttpRequest& r) {
                           if (ctx.require_token &&
                               (!ctx.auth || !ctx.auth->authenticate(r.header("Authorization")))) {
                             api::HttpResponse e =
                                 api::HttpResponse::error(401, "a valid Bearer token is required");
                             e.headers.emplace_back("WWW-Authenticate", "Bearer");
                             return e;
                           }
                           api::HttpResponse ok;
                           ok.status = 101;
                           return ok;
                         },
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
