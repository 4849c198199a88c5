// atende_turn_errors_total: a failed turn counts once under the stage its error names;
// silence and hang-ups are not provider errors.
#include <gtest/gtest.h>

#include "agent/agent_runtime.h"

namespace atende::agent {
namespace {

TEST(TurnMetrics, ProviderErrorsAreCountedByStage) {
  MetricsRegistry registry;
  TurnMetrics m(registry);
  auto turn = [](std::string error) {
    AgentTurn t;
    t.error = std::move(error);
    return t;
  };
  m.observe(turn(""));
  m.observe(turn("llm: timeout"));
  m.observe(turn("llm: empty answer"));
  m.observe(turn("tts: synthesis failed"));
  m.observe(turn("stt: HTTP 500"));
  m.observe(turn("stt: nothing recognised"));
  m.observe(turn("caller hung up"));
  EXPECT_EQ(m.llm_errors.value(), 2u);
  EXPECT_EQ(m.tts_errors.value(), 1u);
  EXPECT_EQ(m.stt_errors.value(), 1u);
  const std::string text = registry.render();
  EXPECT_NE(text.find("atende_turn_errors_total{stage=\"llm\"} 2"), std::string::npos) << text;
}

}  // namespace
}  // namespace atende::agent
