// What the caller heard of an answer cut off by a barge-in: word-middle cuts on plain
// text, and on real espeak-ng clips.
#include <gtest/gtest.h>

#include "agent/barge_in_heard.h"
#include "test_turn_audio.h"

namespace atende::agent {
namespace {

using namespace turn::testing;

TEST(HeardPrefix, CutsAtWordMiddles) {
  const std::string s = "your table is booked for eight";  // 30 bytes
  EXPECT_EQ(heard_prefix(s, 0.0), "");
  EXPECT_EQ(heard_prefix(s, -1.0), "");
  EXPECT_EQ(heard_prefix(s, 1.0), s);
  EXPECT_EQ(heard_prefix(s, 2.0), s);
  EXPECT_EQ(heard_prefix(s, 0.05), "");      // 1.5 bytes: "your" (middle 2) not yet
  EXPECT_EQ(heard_prefix(s, 0.07), "your");  // 2.1 bytes
  EXPECT_EQ(heard_prefix(s, 0.5), "your table is");
  EXPECT_EQ(heard_prefix(s, 0.95), "your table is booked for eight");
  EXPECT_EQ(heard_prefix("  padded words  ", 1.0), "padded words");
  EXPECT_EQ(heard_prefix("", 0.5), "");
}

TEST(PlayedSpeech, KeepsFinishedSentencesAndPartOfTheCurrent) {
  PlayedSpeech said(8000);
  said.queued("Your table is booked.", 16000);
  said.queued("We will see you at eight tonight.", 24000);
  EXPECT_EQ(said.heard_text(), "");
  EXPECT_EQ(said.total_samples(), 40000u);
  for (int i = 0; i < 100; ++i) said.advance(160);  // 2 s: exactly the first sentence
  EXPECT_EQ(said.heard_text(), "Your table is booked.");
  for (int i = 0; i < 75; ++i) said.advance(160);  // half of the second
  EXPECT_EQ(said.heard_text(), "Your table is booked. We will see you");
  EXPECT_DOUBLE_EQ(said.played_seconds(), 3.5);
  EXPECT_FALSE(said.finished());
  said.advance(100000);
  EXPECT_TRUE(said.finished());
  EXPECT_EQ(said.played_samples(), 40000u);
  EXPECT_EQ(said.heard_text(), said.full_text());
  EXPECT_EQ(said.full_text(), "Your table is booked. We will see you at eight tonight.");
  said.clear();
  EXPECT_EQ(said.full_text(), "");
  EXPECT_TRUE(said.finished());
}

TEST(PlayedSpeech, InterruptedOnRealClips) {
  const auto a = tts().synthesize({"Thank you for calling.", {"en-us", 165}, kRate});
  const auto b =
      tts().synthesize({"Your appointment is on Tuesday at three.", {"en-us", 165}, kRate});
  ASSERT_TRUE(a && b);
  PlayedSpeech said(kRate);
  said.queued(a->label, a->pcm.size());
  said.queued(b->label, b->pcm.size());
  // Barge-in 400 ms into the second sentence: the day and time were not heard.
  said.advance(a->pcm.size() + 3200);
  const std::string heard = said.heard_text();
  EXPECT_TRUE(heard.starts_with("Thank you for calling. Your")) << heard;
  EXPECT_EQ(heard.find("Tuesday"), std::string::npos) << heard;
}

}  // namespace
}  // namespace atende::agent
