#include "app/session_json.h"

#include "store/call_record.h"

namespace atende::app {

nlohmann::json session_json(const sessions::SessionSummary& s) {
  auto legs = nlohmann::json::array();
  for (const auto& l : s.legs) {
    legs.push_back({{"id", l.id},
                    {"kind", l.kind},
                    {"direction", l.direction},
                    {"from", l.from},
                    {"to", l.to},
                    {"state", l.state}});
  }
  return {{"id", s.id},
          {"flow", s.flow},
          {"state", s.state},
          {"started_at", store::format_iso8601(s.started_at)},
          {"legs", std::move(legs)}};
}

}  // namespace atende::app
