// The console's view of flows and personas, and their reload (docs/api.md "Flows and
// personas"):
//
//   GET  /api/flows             [{"name", "type": "flow", "file", "description"}]
//   GET  /api/flows/{name}      {"name", "type", "file", "yaml"}  (the file as on disk now)
//   GET  /api/personas          [{"name", "type": "persona", "file", "description"}]
//   GET  /api/personas/{name}   {"name", "type", "file", "yaml"}
//   POST /api/flows/validate    YAML text or {"yaml": "..."} -> 200 {"ok", "flows"} or
//                               422 {"ok": false, "errors": [{"message", "line"}]}
//   POST /api/reload            -> 200 {"flows", "personas"} or 422 {"error", "errors"}
//
// Installed always (the OpenAPI drift test sees every route); without a catalog they
// answer 503.
#pragma once
#include "api/http_server.h"
#include "app/catalog.h"

namespace atende::app {

void install_catalog_routes(api::HttpServer& http, Catalog* catalog);

}  // namespace atende::app
