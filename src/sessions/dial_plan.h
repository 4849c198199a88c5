// The dial plan: which flow or persona answers a dialled number or extension, and which
// trunk carries a number we dial. From the config's `dialplan:` and `trunks:` (see
// docs/sessions.md); the flows' and personas' own names and aliases come after it.
//
//   dialplan:
//     - {match: "2000", persona: sales}     # seed 003: extension 2000 is the agent
//     - {match: "0", flow: ivr}
//     - {match: "+55*", trunk: carrier}     # numbers we dial: which trunk
//     - {match: "2xxx", trunk: pbx}
//
// Patterns: an exact string, 'x' for any one digit, a final '*' for any rest.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"

namespace atende::sessions {

bool dial_pattern_matches(std::string_view pattern, std::string_view value);

class DialPlan {
 public:
  DialPlan() = default;
  DialPlan(std::vector<DialPlanEntry> entries, std::vector<TrunkConfig> trunks);

  // The flow or persona for an inbound call to `user`, when the plan names one: a
  // dialplan entry, or the `inbound` of the trunk whose account `user` is.
  std::optional<std::string> inbound(std::string_view user) const;
  // The trunk for dialling `to` when the caller named none: the first matching entry's,
  // else the default trunk; empty when there is none (then only sip: URIs can be dialled).
  std::string trunk_for(std::string_view to) const;
  const TrunkConfig* trunk(std::string_view name) const;
  const std::vector<TrunkConfig>& trunks() const { return trunks_; }

 private:
  std::vector<DialPlanEntry> entries_;
  std::vector<TrunkConfig> trunks_;
};

}  // namespace atende::sessions
