// `type: asp` (flow/asp_step.h): expanded into dial + bridge when the file is read, checked
// by the loader as those two steps; bad asp steps are errors at load time.
#include <gtest/gtest.h>

#include "flow/flow_loader.h"

namespace atende::flow {
namespace {

int find_step(const FlowSpec& f, const std::string& id) {
  for (size_t i = 0; i < f.steps.size(); ++i) {
    if (f.steps[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

constexpr const char* kFlow = R"(
name: agent
start: talk
steps:
  talk:
    type: asp
    url: "ws://127.0.0.1:8080/asp?to=ivr"
    prompt: "One moment."
    next: after
    on_failure: sorry
  after:
    type: hangup
  sorry:
    type: hangup
)";

TEST(FlowAspStep, ExpandsToDialAndBridge) {
  const LoadResult r = load_flow_text(kFlow, "agent.yaml");
  ASSERT_TRUE(r.ok()) << r.error_text();
  const FlowSpec& f = *r.flow;
  const int talk = find_step(f, "talk");
  const int bridge = find_step(f, "talk-bridge");
  ASSERT_GE(talk, 0);
  ASSERT_GE(bridge, 0);
  EXPECT_EQ(f.steps[talk].type, StepType::kDial);
  EXPECT_EQ(f.steps[talk].to, "ws://127.0.0.1:8080/asp?to=ivr");
  EXPECT_EQ(f.steps[talk].next, bridge);
  EXPECT_EQ(f.steps[bridge].type, StepType::kBridge);
  EXPECT_EQ(f.steps[bridge].next, find_step(f, "after"));
  EXPECT_EQ(f.steps[bridge].on_failure, find_step(f, "sorry"));
}

TEST(FlowAspStep, BadStepsAreErrors) {
  std::string no_url = kFlow;
  no_url.replace(no_url.find("url:"), 4, "uri:");
  EXPECT_FALSE(load_flow_text(no_url, "a.yaml").errors.empty());
  std::string sip = kFlow;
  sip.replace(sip.find("ws://"), 5, "sip:");
  EXPECT_FALSE(load_flow_text(sip, "a.yaml").errors.empty());
  std::string taken = std::string(kFlow) + "  talk-bridge:\n    type: hangup\n";
  EXPECT_FALSE(load_flow_text(taken, "a.yaml").errors.empty());
}

// The step after an asp step used to vanish: the check for a taken "-bridge" name looked it
// up through the non-const operator[], which adds the key to the map being walked.
TEST(FlowAspStep, TheStepsAroundItAllSurvive) {
  const LoadResult r = load_flow_text(R"(
name: q
start: talk
steps:
  talk:
    type: asp
    url: "ws://127.0.0.1:9/asp?to=echo"
    on_failure: bye
  bye:
    type: hangup
)",
                                      "q.yaml");
  ASSERT_TRUE(r.ok()) << r.error_text();
  EXPECT_EQ(r.flow->steps[find_step(*r.flow, "talk")].on_failure, find_step(*r.flow, "bye"));
}

}  // namespace
}  // namespace atende::flow
