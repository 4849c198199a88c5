// The REST routes that act on live calls and trunks (docs/api.md): they use CallControl
// and the SIP front-end's trunk status, so they are installed here, where the server is
// put together, rather than in api/ (which knows neither).
#pragma once
#include <functional>
#include <vector>

#include "api/http_server.h"
#include "sessions/call_control.h"
#include "sipfront/sip_front.h"
#include "store/call_store.h"

namespace atende::app {

struct ControlApiContext {
  sessions::CallControl* control = nullptr;
  // The trunks and their registration (SipFront::trunk_status); null: no GET /api/trunks.
  std::function<std::vector<sipfront::TrunkStatus>()> trunks;
  store::CallStore* store = nullptr;
};

void install_control_api(api::HttpServer& http, ControlApiContext ctx);

}  // namespace atende::app
