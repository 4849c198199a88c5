// The API's OpenAPI 3.1 document (src/api/openapi.json, compiled in) and the route that
// serves it. The file is the one source: tests/unit/test_app_openapi.cpp fails when a route
// the server installs is missing from it, or it names a route the server does not have.
//
//   api::install_openapi_route(http);   // GET /api/openapi.json
#pragma once
#include <string_view>

#include "api/http_server.h"

namespace atende::api {

// The JSON text of src/api/openapi.json as built in.
std::string_view openapi_document();

void install_openapi_route(HttpServer& server);

}  // namespace atende::api
