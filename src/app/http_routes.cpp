#include "app/http_routes.h"

#include "api/api_routes.h"
#include "api/control_routes.h"
#include "api/openapi.h"
#include "api/static_files.h"
#include "app/catalog_routes.h"
#include "api/recording_routes.h"
#include "app/control_api.h"

namespace atende::app {

namespace {

// GET /api/events: the guard (a middleware) has checked the token by the time `check` runs;
// the hub then owns the socket, and the HTTP thread goes back to its requests.
void install_events_route(api::HttpServer& http, api::SseHub* hub,
                          std::function<std::string()> snapshot) {
  http.takeover("/api/events", {.check =
                                    [hub](const api::HttpRequest&) {
                                      if (!hub || !hub->can_accept()) {
                                        api::HttpResponse r = api::HttpResponse::error(
                                            503, "too many event streams open");
                                        r.headers.emplace_back("Retry-After", "5");
                                        return r;
                                      }
                                      return api::HttpResponse::text(200, "");
                                    },
                                .take =
                                    [hub, snapshot](const api::HttpRequest&, int fd) {
                                      hub->adopt(
                                          fd, snapshot ? snapshot : [] {
                                            return std::string(R"({"type":"snapshot","calls":[]})");
                                          });
                                    }});
}

}  // namespace

void install_http_routes(api::HttpServer& http, HttpRoutesContext ctx) {
  api::install_api_routes(
      http, {.store = ctx.store, .metrics = ctx.metrics, .ready = std::move(ctx.ready)});
  api::install_openapi_route(http);
  install_control_api(
      http, {.control = ctx.control, .trunks = std::move(ctx.trunks), .store = ctx.store});
  api::install_control_routes(
      http, {.control = ctx.control, .store = ctx.store, .auth = std::move(ctx.auth)});
  if (ctx.audiosocket.directory) {
    audiosocket::install_audiosocket_routes(http, std::move(ctx.audiosocket));
  }
  asp::install_asp_routes(http, ctx.asp);  // always: the route table the document lists
  install_events_route(http, ctx.events, std::move(ctx.events_snapshot));
  install_catalog_routes(http, ctx.catalog);
  if (!ctx.web_root.empty()) {
    auto files = std::make_shared<api::StaticFiles>(ctx.web_root);
    http.fallback([files](const api::HttpRequest& r) { return files->serve(r); });
  }
  api::install_recording_routes(http, {.store = ctx.store, .dir = ctx.recordings_dir});
}

}  // namespace atende::app
