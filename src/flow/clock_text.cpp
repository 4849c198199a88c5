#include "flow/clock_text.h"

namespace atende::flow {
namespace {

std::string twelve_hour(int hour, int minute) {
  int h12 = hour % 12 == 0 ? 12 : hour % 12;
  std::string out = std::to_string(h12);
  if (minute > 0 && minute < 10) out += " oh " + std::to_string(minute);
  if (minute >= 10) out += " " + std::to_string(minute);
  out += hour < 12 ? " AM" : " PM";
  return out;
}

// The value of one placeholder name, or false if the name is not known.
bool expand(std::string_view name, int hour, int minute, std::string* out) {
  if (name == "time") {
    *out = twelve_hour(hour, minute);
  } else if (name == "hour") {
    *out = std::to_string(hour);
  } else if (name == "minute") {
    *out = std::to_string(minute);
  } else if (name == "hour12") {
    *out = std::to_string(hour % 12 == 0 ? 12 : hour % 12);
  } else if (name == "ampm") {
    *out = hour < 12 ? "AM" : "PM";
  } else {
    return false;
  }
  return true;
}

// Calls fn(name) for each {name}; copies the rest through `literal`.
template <typename Literal, typename Placeholder>
void scan(std::string_view text, Literal literal, Placeholder placeholder) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('{', pos);
    size_t close = open == std::string_view::npos ? open : text.find('}', open);
    if (close == std::string_view::npos) {
      literal(text.substr(pos));
      return;
    }
    literal(text.substr(pos, open - pos));
    placeholder(text.substr(open + 1, close - open - 1), text.substr(open, close - open + 1));
    pos = close + 1;
  }
}

}  // namespace

std::string fill_time_template(std::string_view text, int hour, int minute) {
  std::string out;
  scan(
      text, [&](std::string_view lit) { out += lit; },
      [&](std::string_view name, std::string_view raw) {
        std::string value;
        out += expand(name, hour, minute, &value) ? std::string_view(value) : raw;
      });
  return out;
}

bool time_template_valid(std::string_view text, std::string* bad) {
  bool ok = true;
  scan(
      text, [](std::string_view) {},
      [&](std::string_view name, std::string_view) {
        std::string ignored;
        if (ok && !expand(name, 0, 0, &ignored)) {
          ok = false;
          if (bad) *bad = std::string(name);
        }
      });
  return ok;
}

}  // namespace atende::flow
