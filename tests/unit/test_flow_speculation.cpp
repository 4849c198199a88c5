// Speculative recognition in flows (flow/scripted_flow_speculation.cpp): at a short pause
// the utterance so far is recognised; a grammar match ends the turn after the short wait of
// a complete answer and is taken as the turn's answer (one request); the caller going on
// drops it. Real espeak-ng audio through the real VAD and endpointer; fake clock, frame
// counts only.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "flow/flow_loader.h"
#include "test_flow_fakes.h"
#include "test_flow_speech.h"

namespace atende::flow::testing {
namespace {

// Silent frames after the caller's speech until the menu took a choice (-1: never).
int frames_until_choice(Harness& h, const std::string& text, int limit = 100) {
  auto pcm = speech_pcm(text);
  for (size_t at = 0; at + 160 <= pcm.size(); at += 160) {
    AudioFrame f = AudioFrame::silence();
    std::copy(pcm.begin() + at, pcm.begin() + at + 160, f.pcm.begin());
    h.tick(f);
  }
  for (int i = 1; i <= limit; ++i) {
    h.tick();
    if (h.host.count("choice") > 0) return i;
  }
  return -1;
}

TEST(FlowSpeculation, AGrammarMatchAtThePauseEndsTheTurnSoonerWithOneRequest) {
  Harness h;
  h.host.stt.script = {"support"};
  h.host.stt.match = true;
  ASSERT_TRUE(h.start(shipped_flows(), "ivr"));
  h.play_out();
  const int frames = frames_until_choice(h, "support");
  EXPECT_GT(frames, 0);
  // The short pause (200 ms) plus the complete answer's wait: well before the default
  // 600 ms (30 frames) of silence.
  EXPECT_LT(frames, 600 / 20);
  EXPECT_TRUE(h.host.has("choice", "2 support"));
  EXPECT_EQ(h.host.stt.requests.size(), 1u);  // recognised at the pause, taken at the end
}

TEST(FlowSpeculation, WithoutAMatchTheDefaultWaitHoldsAndTheResultIsStillTaken) {
  Harness h;
  h.host.stt.script = {"support"};  // free text: no grammar phrase named
  ASSERT_TRUE(h.start(shipped_flows(), "ivr"));
  h.play_out();
  const int frames = frames_until_choice(h, "support");
  EXPECT_GE(frames, 600 / 20);
  EXPECT_TRUE(h.host.has("choice", "2 support"));
  EXPECT_EQ(h.host.stt.requests.size(), 1u);
}

TEST(FlowSpeculation, TheCallerGoingOnDropsItAndTheWholeUtteranceIsRecognised) {
  Harness h;
  h.host.stt.script = {"", "support"};  // the first part matches nothing; then the whole
  h.host.stt.match = true;
  ASSERT_TRUE(h.start(shipped_flows(), "ivr"));
  h.play_out();
  auto first = speech_pcm("please put me through to");
  for (size_t at = 0; at + 160 <= first.size(); at += 160) {
    AudioFrame f = AudioFrame::silence();
    std::copy(first.begin() + at, first.begin() + at + 160, f.pcm.begin());
    h.tick(f);
  }
  h.run_for(Millis(300));  // past the short pause: recognised, nothing matched
  ASSERT_EQ(h.host.stt.requests.size(), 1u);
  EXPECT_EQ(h.host.count("choice"), 0);
  EXPECT_EQ(h.host.count("no_match"), 0);  // the turn has not ended: no verdict yet
  const int frames = frames_until_choice(h, "support");
  EXPECT_GT(frames, 0);
  EXPECT_LT(frames, 600 / 20);
  EXPECT_TRUE(h.host.has("choice", "2 support"));  // the whole utterance's answer
  EXPECT_EQ(h.host.count("choice"), 1);
  EXPECT_EQ(h.host.stt.requests.size(), 2u);  // one per pause; the end took the second
}

TEST(FlowSpeculation, OffRecognisesOnlyAtTheEndOfTheTurn) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("atende-test-spec-" + std::to_string(static_cast<long>(::getpid())));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "m.yaml") << "name: m\nspeculative: false\nstart: menu\nsteps:\n"
                                   "  menu:\n    type: menu\n    prompt: \"Say support.\"\n"
                                   "    choices:\n      \"2\": {next: a, say: [support]}\n"
                                   "  a:\n    type: hangup\n";
  Harness h;
  h.host.stt.script = {"support"};
  h.host.stt.match = true;
  ASSERT_TRUE(h.start(dir.string(), "m"));
  h.play_out();
  const int frames = frames_until_choice(h, "support");
  EXPECT_GE(frames, 600 / 20) << frames;  // the default wait: nothing recognised at the pause
  EXPECT_EQ(h.host.stt.requests.size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(FlowSpeculation, TheSwitchIsTrueOrFalse) {
  LoadResult r = load_flow_text(
      "name: m\nspeculative: maybe\nstart: a\nsteps:\n  a: {type: hangup}\n", "m.yaml");
  EXPECT_NE(r.error_text().find("m.yaml:2:14: speculative: expected true or false"),
            std::string::npos)
      << r.error_text();
}

}  // namespace
}  // namespace atende::flow::testing
