#include "sessions/dial_plan.h"

namespace atende::sessions {

bool dial_pattern_matches(std::string_view pattern, std::string_view value) {
  size_t i = 0;
  for (; i < pattern.size(); ++i) {
    const char p = pattern[i];
    if (p == '*' && i + 1 == pattern.size()) return true;  // any rest, even none
    if (i >= value.size()) return false;
    const char v = value[i];
    if (p == 'x' || p == 'X') {
      if (v < '0' || v > '9') return false;
    } else if (p != v) {
      return false;
    }
  }
  return i == value.size();
}

DialPlan::DialPlan(std::vector<DialPlanEntry> entries, std::vector<TrunkConfig> trunks)
    : entries_(std::move(entries)), trunks_(std::move(trunks)) {}

std::optional<std::string> DialPlan::inbound(std::string_view user) const {
  for (const auto& e : entries_) {
    if (e.flow.empty() && e.persona.empty()) continue;
    if (dial_pattern_matches(e.match, user)) return e.flow.empty() ? e.persona : e.flow;
  }
  for (const auto& t : trunks_) {
    if (!t.inbound.empty() && !t.user.empty() && t.user == user) return t.inbound;
  }
  return std::nullopt;
}

std::string DialPlan::trunk_for(std::string_view to) const {
  for (const auto& e : entries_) {
    if (!e.trunk.empty() && dial_pattern_matches(e.match, to)) return e.trunk;
  }
  for (const auto& t : trunks_) {
    if (t.is_default) return t.name;
  }
  return trunks_.size() == 1 ? trunks_.front().name : std::string();
}

const TrunkConfig* DialPlan::trunk(std::string_view name) const {
  for (const auto& t : trunks_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace atende::sessions
