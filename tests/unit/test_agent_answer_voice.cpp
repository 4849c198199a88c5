// AnswerVoice alone: sentences in speaking order whatever order their audio arrives in,
// held audio, drop() and synthesis failures, with a fake leg and phrase source.
#include "agent/answer_voice.h"

#include <gtest/gtest.h>

#include "test_agent_loop_fixture.h"

namespace atende::agent {
namespace {

struct Recorder : AnswerVoiceEvents {
  void on_answer_audio(MonoTime) override { ++answer_audio; }
  void on_sentence_queued(const Sentence& s, bool first, size_t part, MonoTime) override {
    if (first) queued.push_back(s.text + "@" + std::to_string(part));
  }
  void on_voice_error(const VoiceError& e, MonoTime) override { errors.push_back(e); }
  void on_voice_drained(MonoTime) override { ++drained; }
  int answer_audio = 0;
  int drained = 0;
  std::vector<std::string> queued;
  std::vector<VoiceError> errors;
};

struct AnswerVoiceTest : ::testing::Test {
  FakeLeg leg;
  FakePhrases phrases;
  Host host{leg, phrases};
  Recorder events;
  AnswerVoice voice{host, AnswerVoiceSettings{}, nullptr, nullptr, events};
  MonoTime now = MonoClock::now();

  void say(const std::string& text, bool answer = true) {
    voice.say(Sentence{.text = text, .answer = answer}, now);
  }
  // Completes the pending fetch at `index` (the synthesiser finished that sentence).
  void finish_fetch(size_t index, bool fail = false) {
    auto [phrase, done] = std::move(phrases.pending[index]);
    phrases.pending.erase(phrases.pending.begin() + long(index));
    done(fail ? nullptr : FakePhrases::make_clip(phrase));
    host.run_posted();
  }
};

TEST_F(AnswerVoiceTest, SentencesPlayInSpeakingOrderWhateverOrderTheirAudioArrives) {
  say("First sentence.");
  say("Second one.");
  EXPECT_EQ(voice.requests(), 2);
  finish_fetch(1);  // the second is ready first: it waits
  EXPECT_TRUE(leg.clips.empty());
  finish_fetch(0);
  EXPECT_EQ(leg.labels(), (std::vector<std::string>{"First sentence.", "Second one."}));
  EXPECT_EQ(events.queued, (std::vector<std::string>{"First sentence.@0", "Second one.@1"}));
  EXPECT_EQ(events.answer_audio, 2);
  EXPECT_TRUE(voice.idle());
  EXPECT_GE(events.drained, 1);
  EXPECT_EQ(voice.played().full_text(), "First sentence. Second one.");
  ASSERT_EQ(host.transcript.size(), 2u);  // what was said, as it went to the leg
}

TEST_F(AnswerVoiceTest, AHeldVoiceSynthesisesButPlaysOnlyOnceReleased) {
  voice.hold(true);
  say("Held answer.");
  finish_fetch(0);
  EXPECT_TRUE(leg.clips.empty());
  EXPECT_TRUE(voice.has_audio());
  EXPECT_FALSE(voice.idle());
  voice.hold(false);
  voice.pump(now);
  EXPECT_EQ(leg.labels(), (std::vector<std::string>{"Held answer."}));
  EXPECT_TRUE(voice.idle());
}

TEST_F(AnswerVoiceTest, DropForgetsQueuedSentencesAndIgnoresLateAudio) {
  say("Never heard.");
  auto late = std::move(phrases.pending[0]);
  phrases.pending.clear();
  voice.drop();
  EXPECT_TRUE(voice.idle());
  late.second(FakePhrases::make_clip(late.first));  // the synthesiser finishes anyway
  EXPECT_EQ(host.run_posted(), 0u);                   // cancelled: nothing was posted
  say("After the drop.");
  finish_fetch(0);
  EXPECT_EQ(leg.labels(), (std::vector<std::string>{"After the drop."}));
}

TEST_F(AnswerVoiceTest, AFailedClipIsReportedAndTheNextSentenceStillPlays) {
  say("Broken.");
  say("Fine.");
  finish_fetch(0, /*fail=*/true);
  finish_fetch(0);
  EXPECT_EQ(leg.labels(), (std::vector<std::string>{"Fine."}));
  ASSERT_EQ(events.errors.size(), 1u);
  EXPECT_EQ(events.errors[0].kind, VoiceError::Kind::kClipFailed);
  EXPECT_FALSE(events.errors[0].heard_any);
}

TEST_F(AnswerVoiceTest, CachedPhrasesPlayAtOnceWithoutARequest) {
  phrases.prepare({"Hello.", speech::Voice{}, 8000});
  say("Hello.", /*answer=*/false);
  EXPECT_EQ(leg.labels(), (std::vector<std::string>{"Hello."}));
  EXPECT_EQ(voice.requests(), 0);
  EXPECT_EQ(events.answer_audio, 0);  // not part of an answer
}

}  // namespace
}  // namespace atende::agent
