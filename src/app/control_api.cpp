#include "app/control_api.h"

#include <nlohmann/json.hpp>

#include "app/session_json.h"

namespace atende::app {
namespace {

nlohmann::json to_json(const sipfront::TrunkStatus& t) {
  return {{"name", t.name},
          {"registers", t.registers},
          {"state", t.registers ? nlohmann::json(t.state) : nlohmann::json(nullptr)},
          {"last_status", t.last_status ? nlohmann::json(t.last_status) : nlohmann::json(nullptr)},
          {"last_reason", t.last_phrase},
          {"changed_at", t.changed_at.time_since_epoch().count() == 0
                             ? nlohmann::json(nullptr)
                             : nlohmann::json(store::format_iso8601(t.changed_at))}};
}

}  // namespace

void install_control_api(api::HttpServer& http, ControlApiContext ctx) {
  if (ctx.control) {
    http.route("GET", "/api/live", [control = ctx.control](const api::HttpRequest&) {
      auto out = nlohmann::json::array();
      for (const auto& s : control->list()) out.push_back(session_json(s));
      return api::HttpResponse::json(200, out);
    });
  }
  if (ctx.trunks) {
    http.route("GET", "/api/trunks", [trunks = ctx.trunks](const api::HttpRequest&) {
      auto out = nlohmann::json::array();
      for (const auto& t : trunks()) out.push_back(to_json(t));
      return api::HttpResponse::json(200, out);
    });
  }
}

}  // namespace atende::app
