#include "api/openapi.h"

namespace atende::api {

void install_openapi_route(HttpServer& server) {
  // Always open (ApiGuard exempts it): a client reads it to learn how to authenticate.
  server.route("GET", "/api/openapi.json", [](const HttpRequest&) {
    return HttpResponse::text(200, std::string(openapi_document()), "application/json");
  });
}

}  // namespace atende::api
