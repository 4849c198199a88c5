#include "api/call_list_query.h"

#include <charconv>
#include <chrono>

#include "api/query.h"

namespace atende::api {

namespace {

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 1000;
constexpr int kMaxOffset = 1'000'000'000;
constexpr size_t kMaxName = 128;   // flow, outcome
constexpr size_t kMaxId = 256;     // before
constexpr size_t kMaxNumber = 32;  // number prefix

bool all_of(std::string_view s, bool (*ok)(char)) {
  for (const char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_number_char(char c) { return is_digit(c) || c == '+'; }
bool is_id_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' ||
         c == '.' || c == ':' || c == '@';
}
bool is_printable(char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; }

// Reads `digits` decimal digits at s[pos...] into `out`.
bool fixed(std::string_view s, size_t pos, size_t digits, int& out) {
  if (pos + digits > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + digits; ++i) {
    if (!is_digit(s[i])) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<int64_t> parse_time_param(std::string_view s) {
  if (!s.empty() && s.size() <= 15 && all_of(s, is_digit)) {
    int64_t ms = 0;
    std::from_chars(s.data(), s.data() + s.size(), ms);
    return ms;
  }
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  int y, mo, d, h, mi, sec;
  if (!fixed(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !fixed(s, 5, 2, mo) || s[7] != '-' ||
      !fixed(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !fixed(s, 11, 2, h) ||
      s[13] != ':' || !fixed(s, 14, 2, mi) || s[16] != ':' || !fixed(s, 17, 2, sec)) {
    return std::nullopt;
  }
  size_t pos = 19;
  int ms = 0;
  if (s[pos] == '.') {
    size_t digits = 0;
    for (++pos; pos < s.size() && is_digit(s[pos]); ++pos, ++digits) {
      if (digits < 3) ms = ms * 10 + (s[pos] - '0');
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) ms *= 10;
  }
  const std::string_view zone = s.substr(pos);
  if (zone != "Z" && zone != "z" && zone != "+00:00") return std::nullopt;
  using namespace std::chrono;
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                            day{static_cast<unsigned>(d)}};
  if (!date.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  const auto t = sys_days{date} + hours{h} + minutes{mi} + seconds{sec} + milliseconds{ms};
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

std::optional<store::CallQuery> parse_call_list_query(
    const std::map<std::string, std::string>& query, std::string& error) {
  store::CallQuery q;
  for (const auto& [name, value] : query) {
    if (name != "limit" && name != "offset" && name != "before" && name != "since" &&
        name != "until" && name != "flow" && name != "outcome" && name != "direction" &&
        name != "number") {
      error = "unknown query parameter '" + name.substr(0, 64) + "'";
      return std::nullopt;
    }
  }
  const auto limit = int_param(query, "limit", kDefaultLimit, 1, kMaxLimit, error);
  if (!limit) return std::nullopt;
  q.limit = *limit;
  const auto offset = int_param(query, "offset", 0, 0, kMaxOffset, error);
  if (!offset) return std::nullopt;
  q.offset = *offset;

  auto text = [&](const char* name, size_t max, bool (*ok)(char), const char* what,
                  std::string& out) {
    const auto it = query.find(name);
    if (it == query.end()) return true;
    if (it->second.empty() || it->second.size() > max || !all_of(it->second, ok)) {
      error = std::string("query parameter '") + name + "' must be " + what;
      return false;
    }
    out = it->second;
    return true;
  };
  if (!text("before", kMaxId, is_id_char, "a call id", q.before) ||
      !text("flow", kMaxName, is_printable, "a flow name (1-128 characters)", q.flow) ||
      !text("outcome", kMaxName, is_printable, "an end reason (1-128 characters)", q.outcome) ||
      !text("number", kMaxNumber, is_number_char, "1-32 digits or '+'", q.number) ||
      !text("direction", 8, is_id_char, "'inbound' or 'outbound'", q.direction)) {
    return std::nullopt;
  }
  if (!q.direction.empty() && q.direction != "inbound" && q.direction != "outbound") {
    error = "query parameter 'direction' must be 'inbound' or 'outbound'";
    return std::nullopt;
  }
  for (const char* name : {"since", "until"}) {
    const auto it = query.find(name);
    if (it == query.end()) continue;
    const auto ms = parse_time_param(it->second);
    if (!ms) {
      error = std::string("query parameter '") + name +
              "' must be an ISO-8601 UTC time (2024-05-01T12:00:00Z) or unix milliseconds";
      return std::nullopt;
    }
    (std::string_view(name) == "since" ? q.since_ms : q.until_ms) = *ms;
  }
  return q;
}

}  // namespace atende::api
