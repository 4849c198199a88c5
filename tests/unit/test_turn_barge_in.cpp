// Barge-in decisions on recorded frame sequences: the agent is playing, and the caller
// says "okay", "uh-huh", "aham", a real sentence, or makes noise. Real WebRTC VAD, espeak-ng
// speech, fake clock.
#include <gtest/gtest.h>

#include <optional>

#include "test_turn_audio.h"
#include "turn/barge_in.h"

namespace atende::turn {
namespace {

using namespace testing;

struct Outcome {
  std::optional<size_t> interrupt_frame;
  BargeInVerdict verdict = BargeInVerdict::kNone;
};

// Playback runs for the whole timeline; `text_at(i)` returns recognised text to deliver
// before frame i (or nullptr).
template <typename TextAt>
Outcome play_over(BargeInPolicy& policy, const Timeline& tl, TextAt text_at) {
  audio::WebRtcVad vad({.sample_rate = kRate});
  Outcome out;
  policy.playback_started(at_frame(0));
  for (size_t i = 0; i < tl.frames(); ++i) {
    if (const char* text = text_at(i)) {
      if (policy.on_text(text, at_frame(i)) == BargeInAction::kInterrupt) {
        out.interrupt_frame = i;
        break;
      }
    }
    const AudioFrame f = frame_at(tl.pcm(), i);
    if (policy.on_frame(vad.process(f), at_frame(i)) == BargeInAction::kInterrupt) {
      out.interrupt_frame = i;
      break;
    }
  }
  out.verdict = policy.last_verdict();
  return out;
}
Outcome play_over(BargeInPolicy& policy, const Timeline& tl) {
  return play_over(policy, tl, [](size_t) -> const char* { return nullptr; });
}

Timeline caller_says(const std::vector<int16_t>& words, size_t* at = nullptr) {
  Timeline tl;
  tl.silence(500);
  const size_t start = tl.add(words);
  if (at) *at = start;
  tl.silence(1500);
  return tl;
}

TEST(IsBackchannel, WordsOnlyFromTheList) {
  const auto list = default_backchannels();
  for (const char* t : {"uh-huh", "Uh huh.", "OK", "okay okay", "yeah", "right", "sim", "uhum",
                        "aham", "Tá.", "tá bom", "certo", "hum", "mm-hmm", "I see"}) {
    EXPECT_TRUE(is_backchannel(t, list)) << t;
  }
  for (const char* t : {"", "...", "wait", "okay but I want to cancel", "não", "stop",
                        "yeah no that's wrong", "espera"}) {
    EXPECT_FALSE(is_backchannel(t, list)) << t;
  }
}

TEST(BargeIn, BackchannelsWithoutTextDoNotInterrupt) {
  for (auto [text, voice] : {std::pair{"okay", "en-us"},
                             {"uh-huh", "en-us"},
                             {"yeah", "en-us"},
                             {"aham", "pt-br"},
                             {"sim", "pt-br"},
                             {"tá", "pt-br"}}) {
    SCOPED_TRACE(text);
    BargeInPolicy policy;
    const Outcome o = play_over(policy, caller_says(say(text, voice)));
    EXPECT_FALSE(o.interrupt_frame);
    EXPECT_TRUE(policy.playing());
    EXPECT_EQ(policy.ignored_backchannels() + policy.ignored_noise(), 1u);
  }
}

TEST(BargeIn, RealSentenceInterruptsOnLength) {
  size_t at = 0;
  const auto words = say("wait, I have a question about my bill");
  BargeInPolicy policy;
  const Outcome o = play_over(policy, caller_says(words, &at));
  ASSERT_TRUE(o.interrupt_frame);
  EXPECT_EQ(o.verdict, BargeInVerdict::kInterrupted);
  EXPECT_TRUE(policy.interrupted());
  EXPECT_FALSE(policy.playing());
  // 700 ms of speech counted from the onset (the pause after "wait" does not count).
  const size_t onset = frame_of_sample(first_loud(words) + at);
  EXPECT_GE(*o.interrupt_frame, onset + 34);
  EXPECT_LE(*o.interrupt_frame, onset + 60);
}

TEST(BargeIn, RealRecordingInterrupts) {
  const auto rec = recording("goforward.raw");
  ASSERT_FALSE(rec.empty());
  BargeInPolicy policy;
  EXPECT_TRUE(play_over(policy, caller_says(rec)).interrupt_frame);
}

TEST(BargeIn, WordsInterruptAsSoonAsLongEnough) {
  size_t at = 0;
  const auto words = say("no, that is not my address");
  const Timeline tl = caller_says(words, &at);
  const size_t onset = frame_of_sample(first_loud(words) + at);
  const size_t text_frame = onset + 8;  // the recogniser's first partial, 160 ms in
  BargeInPolicy policy;
  const Outcome o = play_over(
      policy, tl, [&](size_t i) -> const char* { return i == text_frame ? "no that" : nullptr; });
  ASSERT_TRUE(o.interrupt_frame);
  // Not before min_speech (300 ms), and well before the 700 ms length rule.
  EXPECT_GE(*o.interrupt_frame, onset + 14);
  EXPECT_LE(*o.interrupt_frame, onset + 22);
}

TEST(BargeIn, LongBackchannelWithTextDoesNotInterrupt) {
  size_t at = 0;
  const auto words = say("okay okay, yeah, right");
  const Timeline tl = caller_says(words, &at);
  {
    BargeInPolicy policy;  // without a transcript its length makes it an interruption
    EXPECT_TRUE(play_over(policy, tl).interrupt_frame);
  }
  const size_t text_frame = frame_of_sample(first_loud(words) + at) + 16;
  BargeInPolicy policy;
  const Outcome o = play_over(policy, tl, [&](size_t i) -> const char* {
    return i == text_frame ? "okay okay yeah right" : nullptr;
  });
  EXPECT_FALSE(o.interrupt_frame);
  EXPECT_EQ(policy.ignored_backchannels(), 1u);
}

TEST(BargeIn, LateWordsForAShortStretchStillInterrupt) {
  size_t at = 0;
  const auto words = say("stop");
  const Timeline tl = caller_says(words, &at);
  const size_t late = frame_of_sample(at + words.size()) + 25;  // 500 ms after the word
  BargeInPolicy policy;
  const Outcome o =
      play_over(policy, tl, [&](size_t i) -> const char* { return i == late ? "Stop." : nullptr; });
  ASSERT_TRUE(o.interrupt_frame);
  EXPECT_EQ(*o.interrupt_frame, late);
  // Too late (after late_text) it is news for the next turn, not a barge-in.
  BargeInPolicy again;
  const size_t too_late = late + 60;
  EXPECT_FALSE(play_over(again, tl, [&](size_t i) -> const char* {
                 return i == too_late ? "stop" : nullptr;
               }).interrupt_frame);
}

TEST(BargeIn, NoiseAndQuietEchoDoNotInterrupt) {
  Timeline tl;
  tl.silence(500);
  for (double level : {-30.0, -20.0, -10.0}) {
    tl.add(white_noise(600, level, unsigned(-level)));
    tl.silence(600);
  }
  // Our own prompt leaking back at -50 dBFS or so (well under min_level_dbfs).
  tl.add(scaled(say("your appointment is confirmed for tuesday at three"), -28.0));
  tl.silence(600);
  BargeInPolicy policy;
  const Outcome o = play_over(policy, tl);
  EXPECT_FALSE(o.interrupt_frame);
  EXPECT_GE(policy.ignored_noise(), 3u);
}

TEST(BargeIn, ShortOnlyWhenLengthAloneDecides) {
  // No recogniser for overlapping speech: interrupt at min_speech.
  BargeInConfig cfg;
  cfg.interrupt_without_text = cfg.min_speech;
  size_t at = 0;
  const auto words = say("wait");
  BargeInPolicy policy(cfg);
  const Outcome o = play_over(policy, caller_says(words, &at));
  ASSERT_TRUE(o.interrupt_frame);
  EXPECT_LE(*o.interrupt_frame, frame_of_sample(first_loud(words) + at) + 22);
}

TEST(BargeIn, IgnoresEverythingWhenNotPlayingAndOncePerPlayback) {
  BargeInPolicy policy;
  audio::VadDecision loud{true, 1.0f, -15.0f, 0.05f};
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(policy.on_frame(loud, at_frame(size_t(i))), BargeInAction::kKeepPlaying);
  }
  EXPECT_EQ(policy.on_text("stop right now", at_frame(100)), BargeInAction::kKeepPlaying);
  policy.playback_started(at_frame(200));
  int interrupts = 0;
  for (int i = 200; i < 300; ++i) {
    interrupts += policy.on_frame(loud, at_frame(size_t(i))) == BargeInAction::kInterrupt;
  }
  EXPECT_EQ(interrupts, 1);
  policy.playback_started(at_frame(300));  // the next answer can be interrupted again
  EXPECT_FALSE(policy.interrupted());
  for (int i = 300; i < 400; ++i) {
    interrupts += policy.on_frame(loud, at_frame(size_t(i))) == BargeInAction::kInterrupt;
  }
  EXPECT_EQ(interrupts, 2);
}

}  // namespace
}  // namespace atende::turn
