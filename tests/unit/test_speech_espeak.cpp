#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "audio/correlation.h"
#include "audio/levels.h"
#include "speech/espeak_synthesizer.h"

namespace atende::speech {
namespace {

// Speech level is around -20 dBFS; digital silence is -120 and espeak's quiet gaps far
// below -40.
constexpr double kSpeechDbfs = -40.0;

TEST(EspeakSynthesizer, EnglishMenuPromptAt8k) {
  EspeakSynthesizer tts;
  ClipPtr clip = tts.synthesize({"press one for sales", {"en-us", 165}, 8000});
  ASSERT_NE(clip, nullptr);
  EXPECT_EQ(clip->sample_rate, 8000);
  EXPECT_EQ(clip->label, "press one for sales");
  EXPECT_GT(clip->seconds(), 0.5);
  EXPECT_LT(clip->seconds(), 5.0);
  EXPECT_GT(audio::dbfs(clip->pcm), kSpeechDbfs);
  EXPECT_EQ(EspeakSynthesizer::native_rate(), 22050);
}

TEST(EspeakSynthesizer, BrazilianPortugueseAt8k) {
  EspeakSynthesizer tts;
  ClipPtr clip = tts.synthesize({"bom dia", {"pt-br", 165}, 8000});
  ASSERT_NE(clip, nullptr);
  EXPECT_GT(clip->seconds(), 0.5);
  EXPECT_LT(clip->seconds(), 5.0);
  EXPECT_GT(audio::dbfs(clip->pcm), kSpeechDbfs);
}

TEST(EspeakSynthesizer, SampleRateChangesSamplesNotDuration) {
  EspeakSynthesizer tts;
  ClipPtr narrow = tts.synthesize({"thank you for calling", {"en-us", 165}, 8000});
  ClipPtr wide = tts.synthesize({"thank you for calling", {"en-us", 165}, 16000});
  ASSERT_TRUE(narrow && wide);
  EXPECT_EQ(wide->sample_rate, 16000);
  EXPECT_NEAR(wide->seconds(), narrow->seconds(), 0.01);
}

TEST(EspeakSynthesizer, FasterRateIsShorter) {
  EspeakSynthesizer tts;
  ClipPtr slow = tts.synthesize({"please hold while we connect you", {"en-us", 120}, 8000});
  ClipPtr fast = tts.synthesize({"please hold while we connect you", {"en-us", 300}, 8000});
  ASSERT_TRUE(slow && fast);
  EXPECT_LT(fast->seconds(), slow->seconds() * 0.75);
}

TEST(EspeakSynthesizer, LeadingSilenceIsTrimmed) {
  EspeakOptions keep;
  keep.trim_leading_silence = false;
  EspeakSynthesizer untrimmed(keep);
  EspeakSynthesizer trimmed;
  const Phrase phrase{"press one for sales", {"en-us", 165}, 8000};
  ClipPtr a = untrimmed.synthesize(phrase);
  ClipPtr b = trimmed.synthesize(phrase);
  ASSERT_TRUE(a && b);
  EXPECT_LT(b->pcm.size(), a->pcm.size());
  // Speech starts within the 10 ms lead-in (+ a little filter ramp).
  const std::span<const int16_t> first_30ms(b->pcm.data(), 240);
  EXPECT_GT(audio::peak(first_30ms), 100);
}

TEST(EspeakSynthesizer, RefusesWhatItCannotSay) {
  EspeakSynthesizer tts;
  EXPECT_EQ(tts.synthesize({"hello", {"xx-nonexistent", 165}, 8000}), nullptr);
  EXPECT_EQ(tts.synthesize({"", {"en-us", 165}, 8000}), nullptr);
  EXPECT_EQ(tts.synthesize({"hello", {"en-us", 165}, 4000}), nullptr);
  EXPECT_EQ(tts.synthesize({std::string(5000, 'a'), {"en-us", 165}, 8000}), nullptr);
  // The engine still works after refusals.
  EXPECT_NE(tts.synthesize({"hello", {"en-us", 165}, 8000}), nullptr);
}

TEST(EspeakSynthesizer, OutOfRangeRateIsClampedNotFatal) {
  EspeakSynthesizer tts;
  EXPECT_NE(tts.synthesize({"hello", {"en-us", 5}, 8000}), nullptr);
  EXPECT_NE(tts.synthesize({"hello", {"en-us", 100000}, 8000}), nullptr);
}

// How alike two renderings are: espeak-ng's pitch flutter carries on from call to call, so
// the waveform differs every time; the loudness envelope (10 ms RMS) does not.
double likeness(const ClipPtr& a, const ClipPtr& b) {
  const size_t n = std::min(a->pcm.size(), b->pcm.size()) * 9 / 10;
  return audio::find_clip_envelope(std::span<const int16_t>(a->pcm).first(n), b->pcm, 8000).score;
}

TEST(EspeakSynthesizer, ConcurrentCallersGetUncorruptedAudio) {
  // espeak-ng's globals would mix voices/buffers if two syntheses overlapped; the shared
  // mutex keeps every concurrent result like the one computed alone.
  EspeakSynthesizer tts;
  const Phrase en{"press two for support", {"en-us", 165}, 8000};
  const Phrase pt{"aperte um para vendas", {"pt-br", 165}, 8000};
  ClipPtr en_alone = tts.synthesize(en), pt_alone = tts.synthesize(pt);
  ASSERT_TRUE(en_alone && pt_alone);
  ASSERT_LT(likeness(en_alone, pt_alone), 0.7);  // the check below can tell them apart
  std::vector<ClipPtr> results(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      EspeakSynthesizer own;  // separate instances share the one engine
      results[i] = own.synthesize(i % 2 ? pt : en);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) {
    ASSERT_NE(results[i], nullptr);
    const ClipPtr& alone = i % 2 ? pt_alone : en_alone;
    EXPECT_NEAR(results[i]->seconds(), alone->seconds(), 0.05) << i;
    EXPECT_GT(likeness(alone, results[i]), 0.95) << i;
  }
}

TEST(EspeakSynthesizer, SecondDataPathIsRefused) {
  EspeakSynthesizer first;
  EspeakOptions other;
  other.data_path = "/nonexistent/espeak";
  EXPECT_THROW(EspeakSynthesizer{other}, std::runtime_error);
}

}  // namespace
}  // namespace atende::speech
