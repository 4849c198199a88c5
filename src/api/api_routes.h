// The built-in routes: health, readiness, Prometheus metrics and the call records.
//
//   GET /healthz            200 "ok" while the process serves HTTP
//   GET /readyz             200 "ready" / 503 "not ready" (e.g. draining) from `ready`
//   GET /metrics            Prometheus text 0.0.4
//   GET /api/calls          ?limit=1..1000 (default 50) &offset=0.. ; newest first
//   GET /api/calls/{id}     one call with its events, or 404
//
// Routes whose dependency is null are not installed. See docs/api.md.
#pragma once
#include <functional>

#include "api/http_server.h"
#include "core/metrics.h"
#include "store/call_store.h"

namespace atende::api {

struct ApiContext {
  store::CallStore* store = nullptr;
  MetricsRegistry* metrics = nullptr;
  std::function<bool()> ready;  // called on the server thread; null: always ready
};

void install_api_routes(HttpServer& server, ApiContext context);

}  // namespace atende::api
