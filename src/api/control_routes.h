// The REST API's write side: placing and hanging up calls through sessions::CallControl,
// behind Bearer tokens, per-token rates and dial allow-lists, with an audit log.
//
//   POST /api/calls                {"to", "flow"|"persona", "trunk"?, "caller_id"?,
//                                   "variables"?, "ring_timeout"?}  -> 202 {"id"}
//   POST /api/start_call           {"phone_number", "persona", "customer_name"?}
//                                  -> 202 {"id", "status": "dialing"}   (seed 002's shape)
//   POST /api/calls/{id}/hangup    -> 200 {"id", "status": "hanging_up"} or 404
//   POST /api/calls/{id}/transfer  {"to"} -> 200 {"id", "to", "status": "transferring"};
//                                  403 outside the token's allow-list, 404, 409
//   GET  /api/audit                ?limit=1..1000&offset= ; newest first; token required
//
// Also installs the ApiGuard middleware (auth, rates, audit) in front of every route of the
// server, so write routes other modules add under /api are guarded too. Call once, before
// server.start(). See docs/api.md.
//
//   api::install_api_routes(http, {.store = &store, ...});
//   api::install_control_routes(http, {.control = &call_control, .store = &store,
//                                      .auth = api::ApiAuth::from_config(cfg)});
#pragma once
#include <functional>

#include "api/api_auth.h"
#include "api/http_server.h"
#include "core/clock.h"
#include "sessions/call_control.h"
#include "store/call_store.h"

namespace atende::api {

struct ControlContext {
  sessions::CallControl* control = nullptr;     // null: the call routes are not installed
  store::CallStore* store = nullptr;            // audit log; null: no audit, no GET /api/audit
  ApiAuth auth;                                 // no tokens: every guarded request gets 401
  int failed_auth_per_minute = 20;              // per client address
  std::function<MonoTime()> now{};              // rate limiting; null: the steady clock
  std::function<store::WallTime()> wall_now{};  // audit timestamps; null: the system clock
};

void install_control_routes(HttpServer& server, ControlContext context);

// ControlErrc -> HTTP status (400, 404, 403, 503, 409).
int http_status(sessions::ControlErrc code);

}  // namespace atende::api
