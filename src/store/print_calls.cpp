#include "store/print_calls.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace atende::store {

namespace {

// Cuts to `width` columns (bytes; URIs are ASCII in practice) and neutralises control
// characters and escape sequences.
std::string cell(std::string_view s, size_t width) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (out.size() > width) {
    out.resize(width - 1);
    out += '~';
  }
  return out;
}

std::string duration(const CallRecord& c) {
  if (!c.ended_at) return c.answered_at ? "up" : "ringing";
  // Clamped: a wall clock stepped back must not print a negative duration.
  const int64_t ms = std::max<int64_t>(0, to_unix_ms(*c.ended_at) - to_unix_ms(c.started_at));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%01llds", static_cast<long long>(ms / 1000),
                static_cast<long long>((ms % 1000) / 100));
  return buf;
}

}  // namespace

void print_calls(CallStore& store, std::ostream& out, int limit) {
  const auto calls = store.list_calls(limit, 0);
  if (calls.empty()) {
    out << "no calls recorded\n";
    return;
  }
  char line[512];
  std::snprintf(line, sizeof line, "%-24s  %-20s  %-8s  %-24s  %-24s  %-12s  %8s  %-16s  %4s\n",
                "STARTED (UTC)", "ID", "DIR", "FROM", "TO", "FLOW", "DURATION", "END", "SIP");
  out << line;
  for (const auto& c : calls) {
    const std::string sip = c.sip_status ? std::to_string(*c.sip_status) : "-";
    std::snprintf(line, sizeof line, "%-24s  %-20s  %-8s  %-24s  %-24s  %-12s  %8s  %-16s  %4s\n",
                  format_iso8601(c.started_at).c_str(), cell(c.id, 20).c_str(),
                  cell(c.direction, 8).c_str(), cell(c.from_uri, 24).c_str(),
                  cell(c.to_uri, 24).c_str(), cell(c.flow, 12).c_str(), duration(c).c_str(),
                  cell(c.end_reason.value_or("-"), 16).c_str(), cell(sip, 4).c_str());
    out << line;
  }
}

}  // namespace atende::store
