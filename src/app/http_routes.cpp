#include "app/http_routes.h"

#include "api/api_routes.h"
#include "api/control_routes.h"
#include "api/openapi.h"
#include "api/recording_routes.h"
#include "app/control_api.h"

namespace atende::app {

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
  api::install_recording_routes(http, {.store = ctx.store, .dir = ctx.recordings_dir});
}

}  // namespace atende::app
