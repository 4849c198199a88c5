// What a host without sessions (a unit test's fake) answers to the multi-leg calls: no
// second leg can be had, so every dial fails at once (later, through post(), as a real one
// would) and flows take their "failed" branch.
#include "flow/flow_host.h"

namespace atende::flow {

void FlowHost::dial(DialRequest, std::function<void(const DialResult&)> done) {
  post([done = std::move(done)] {
    done(DialResult{.outcome = "failed", .message = "this call cannot place calls"});
  });
}

bool FlowHost::run_flow_on(
    const std::string&, const std::string&, std::map<std::string, std::string>,
    std::function<void(const std::map<std::string, std::string>&, std::string_view)>) {
  return false;
}

bool FlowHost::bridge(const std::string&, bool, std::function<void(std::string_view)>) {
  return false;
}

void FlowHost::hang_up_leg(const std::string&) {}

void FlowHost::transfer(const std::string&, std::function<void(int)> done) {
  post([done = std::move(done)] { done(501); });
}

}  // namespace atende::flow
