// Durations as flow files write them: "500ms", "5s", "2m". A unit is required so that
// "5" can never mean five milliseconds to one reader and five seconds to another.
#pragma once
#include <optional>
#include <string_view>

#include "core/clock.h"

namespace atende::flow {

// nullopt unless `text` is digits followed by ms, s or m, and the result is <= 1 hour.
std::optional<Millis> parse_duration(std::string_view text);

}  // namespace atende::flow
