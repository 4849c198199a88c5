#include "flow/clock_text.h"

#include "flow/template_text.h"

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

}  // namespace

std::string fill_time_template(std::string_view text, int hour, int minute) {
  return fill_template(text, [&](std::string_view name, std::string* value) {
    return expand(name, hour, minute, value);
  });
}

bool time_template_valid(std::string_view text, std::string* bad) {
  for (const std::string& name : template_names(text)) {
    std::string ignored;
    if (!expand(name, 0, 0, &ignored)) {
      if (bad) *bad = name;
      return false;
    }
  }
  return true;
}

}  // namespace atende::flow
