// Every route of the HTTP API, installed in one place: the server calls this, and so does
// the OpenAPI drift test (tests/unit/test_app_openapi.cpp) with stand-ins, so the test sees
// exactly the route table the server serves. A new route belongs in here.
#pragma once
#include <functional>
#include <vector>

#include "api/api_auth.h"
#include "api/http_server.h"
#include "api/sse_hub.h"
#include "app/catalog.h"
#include "asp/asp_routes.h"
#include "audiosocket/audiosocket_routes.h"
#include "core/metrics.h"
#include "sessions/call_control.h"
#include "sipfront/sip_front.h"
#include "store/call_store.h"

namespace atende::app {

struct HttpRoutesContext {
  store::CallStore* store = nullptr;
  MetricsRegistry* metrics = nullptr;
  std::function<bool()> ready;  // /readyz; false while draining
  sessions::CallControl* control = nullptr;
  std::function<std::vector<sipfront::TrunkStatus>()> trunks;
  api::ApiAuth auth;
  audiosocket::AudioSocketRoutesContext audiosocket;
  asp::AspRoutesContext asp;  // GET /asp (the WebSocket upgrade)
  // GET /api/events (Server-Sent Events); null: the route answers 503.
  api::SseHub* events = nullptr;
  std::function<std::string()> events_snapshot;  // a new client's first event (hub thread)
  Catalog* catalog = nullptr;  // GET /api/flows, /api/personas, POST /api/reload; null: 503
  std::string web_root;        // the console's files (api::find_web_root); empty: no console
  std::string recordings_dir;  // GET /api/calls/{id}/recording
};

void install_http_routes(api::HttpServer& http, HttpRoutesContext ctx);

}  // namespace atende::app
