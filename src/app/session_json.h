// A live call (sessions::SessionSummary) as the API shows it: an item of GET /api/live and
// the "call" of every GET /api/events event (docs/api.md).
#pragma once
#include <nlohmann/json.hpp>

#include "sessions/call_control.h"

namespace atende::app {

nlohmann::json session_json(const sessions::SessionSummary& s);

}  // namespace atende::app
