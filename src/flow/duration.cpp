#include "flow/duration.h"

namespace atende::flow {

std::optional<Millis> parse_duration(std::string_view text) {
  constexpr long long kMaxMs = 3600LL * 1000;
  size_t i = 0;
  long long value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    value = value * 10 + (text[i] - '0');
    if (value > kMaxMs) return std::nullopt;  // also stops overflow on long digit runs
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string_view unit = text.substr(i);
  long long ms;
  if (unit == "ms") {
    ms = value;
  } else if (unit == "s") {
    ms = value * 1000;
  } else if (unit == "m") {
    ms = value * 60 * 1000;
  } else {
    return std::nullopt;
  }
  if (ms > kMaxMs) return std::nullopt;
  return Millis(ms);
}

}  // namespace atende::flow
