// Barge-in by words (issue 13 item 4): speech over the agent's answer is recognised while
// the caller talks; backchannel words never interrupt however long they go on, other
// words interrupt at once. Fake clock: frame counts only.
#include "test_agent_loop_fixture.h"

namespace atende::agent {
namespace {

// About 3.3 s as the fake leg plays it (10 ms a character): it must outlast the caller's
// 1.6 s over it and the end-of-turn wait after that, or the backchannel ends after the
// answer and is a turn of its own.
const std::string kLongAnswer =
    "Our menu today has many dishes. There is soup and there is fish and there is a very "
    "long list of desserts that I will now read to you one by one, slowly and carefully, "
    "starting with the chocolate cake, then the lemon tart, then the apple pie and the "
    "rice pudding, and finally the ice cream in seven flavours.";

struct BargeInWordsTest : AgentTest {
  // The caller asked; the long answer is playing.
  void answer_playing(std::vector<std::string> after) {
    fake.script({{"chat", {{{"content", kLongAnswer}}, {{"content", "Okay."}}}}});
    stt.texts = {"what is on the menu"};
    for (auto& t : after) stt.texts.push_back(t);
    start(settings());
    play_out();
    say();
    ASSERT_TRUE(wait_for([&] { return leg.clips.size() >= 3; }));
    ticks(10);
    ASSERT_TRUE(leg.playing());
  }
};

TEST_F(BargeInWordsTest, ABackchannelStreamNeverInterrupts) {
  answer_playing({"okay okay sure okay right"});
  // 1.6 s of "okay okay sure okay right": the length rule alone would stop at 700 ms.
  EXPECT_EQ(frames_until_flushed(80), -1);
  ticks(30);
  play_out();
  EXPECT_EQ(leg.flushes, 0);
  ASSERT_TRUE(wait_for([&] {  // the completion's end may still be on its way
    tick();
    return turns.size() >= 2;
  }));
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_FALSE(turns[1].interrupted);
  EXPECT_EQ(turns[1].agent_text, kLongAnswer);
  EXPECT_GE(stt.requests, 2);  // the words over the answer were asked for
}

TEST_F(BargeInWordsTest, StopInterruptsAtOnce) {
  answer_playing({"stop"});
  const int frames = frames_until_flushed(80);
  // At min_speech (300 ms: 15 frames) the words are asked for; "stop" stops it on the next
  // frame, well before the 700 ms (35 frames) of the length rule.
  EXPECT_GT(frames, 0);
  EXPECT_LE(frames, 300 / 20 + 2);
  ticks(40);
  ASSERT_TRUE(wait_for([&] { return last_label() == "Okay."; }));
  ASSERT_GE(turns.size(), 2u);
  EXPECT_TRUE(turns[1].interrupted);
  // The interruption is the next turn's words (the same utterance, recognised again).
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1]["json"]["messages"].back()["content"], "stop");
}

TEST_F(BargeInWordsTest, OffKeepsTheLengthRule) {
  fake.script({{"chat", {{{"content", kLongAnswer}}, {{"content", "Okay."}}}}});
  stt.texts = {"what is on the menu", "okay okay sure okay right"};
  AgentSettings s = settings();
  s.barge_in_words = false;
  start(s);
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return leg.clips.size() >= 3; }));
  ticks(10);
  const int frames = frames_until_flushed(80);
  EXPECT_GE(frames, 700 / 20);  // interrupt_without_text
  EXPECT_EQ(stt.requests, 1);   // nothing asked while it played
}

}  // namespace
}  // namespace atende::agent
