// The agent runtime: which personas are configured, and the turn histograms.
#include <gtest/gtest.h>

#include <algorithm>

#include "agent/agent_runtime.h"

namespace atende::agent {
namespace {

// prepare() also reports HTTP tools switched off by an unset ${VAR} (restaurante's
// check_availability without ATENDE_RESTAURANT_API): count only the personas not configured.
size_t unconfigured(const std::vector<std::string>& problems) {
  return std::count_if(problems.begin(), problems.end(), [](const std::string& p) {
    return p.find("not configured") != std::string::npos;
  });
}

TEST(AgentRuntime, UnconfiguredPersonasAreReported) {
  PersonaLibrary lib;
  ASSERT_TRUE(lib.load_dir(std::string(ATENDE_SOURCE_DIR) + "/personas").empty());
  {
    AgentRuntime none({}, nullptr);
    auto problems = none.prepare(lib);
    ASSERT_EQ(unconfigured(problems), lib.personas().size());
    EXPECT_NE(problems[0].find("no llm_base_url"), std::string::npos) << problems[0];
  }
  {
    AgentRuntime llm_only({.llm_base_url = "http://127.0.0.1:9"}, nullptr);
    auto problems = llm_only.prepare(lib);
    ASSERT_EQ(unconfigured(problems), lib.personas().size());
    EXPECT_NE(problems[0].find("no stt_base_url"), std::string::npos) << problems[0];
  }
  AgentRuntime full({.llm_base_url = "http://127.0.0.1:9", .stt_base_url = "http://127.0.0.1:9"},
                    nullptr);
  for (const auto& p : full.prepare(lib)) {
    EXPECT_NE(p.find("http tool off"), std::string::npos) << p;
  }
}

TEST(TurnMetrics, ObservesOnlyStagesThatHappened) {
  MetricsRegistry registry;
  TurnMetrics m(registry);
  AgentTurn ok{.index = 1,
               .speech_end_ms = 1000,
               .stt_final_ms = 1300,
               .first_token_ms = 1600,
               .first_audio_ms = 1650,
               .first_play_ms = 1660};
  m.observe(ok);
  AgentTurn failed{.index = 2,
                   .error = "llm: Timeout",
                   .speech_end_ms = 5000,
                   .stt_final_ms = 5200,
                   .first_play_ms = 7300};
  m.observe(failed);
  EXPECT_EQ(m.stt.snapshot().count(), 2u);
  EXPECT_EQ(m.first_token.snapshot().count(), 1u);
  EXPECT_EQ(m.first_audio.snapshot().count(), 1u);
  EXPECT_EQ(m.response.snapshot().count(), 2u);
  EXPECT_NEAR(m.response.snapshot().sum, 0.66 + 2.3, 1e-9);
  EXPECT_NEAR(m.stt.snapshot().sum, 0.3 + 0.2, 1e-9);
}

}  // namespace
}  // namespace atende::agent
