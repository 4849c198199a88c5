#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "audio/levels.h"
#include "audio/resampler.h"
#include "audio/tone.h"

namespace atende::audio {
namespace {

// Sign changes in the middle 80% of the signal (edges hold filter transients), scaled back
// to a per-second rate: twice the frequency of a pure tone.
double crossings_per_second(std::span<const int16_t> pcm, int rate) {
  const size_t from = pcm.size() / 10, to = pcm.size() - pcm.size() / 10;
  int count = 0;
  for (size_t i = from + 1; i < to; ++i) {
    if ((pcm[i - 1] < 0) != (pcm[i] < 0)) ++count;
  }
  return count / (double(to - from) / rate);
}

std::span<const int16_t> middle(const std::vector<int16_t>& v) {
  return std::span<const int16_t>(v).subspan(v.size() / 10, v.size() * 8 / 10);
}

TEST(Resampler, RoundTrip8kTo16kKeepsFrequencyAndAmplitude) {
  const auto tone = make_tone(8000, 1000.0, 1.0, 0.5);
  const auto up = Resampler::convert(tone, 8000, 16000);
  const auto back = Resampler::convert(up, 16000, 8000);

  EXPECT_EQ(up.size(), 16000u);
  EXPECT_EQ(back.size(), 8000u);
  EXPECT_NEAR(crossings_per_second(up, 16000), 2000.0, 10.0);
  EXPECT_NEAR(crossings_per_second(back, 8000), 2000.0, 10.0);
  EXPECT_NEAR(dbfs(middle(up)), dbfs(middle(tone)), 0.5);
  EXPECT_NEAR(dbfs(middle(back)), dbfs(middle(tone)), 0.5);
}

TEST(Resampler, ConvertIsAlignedWithInput) {
  // A click at 0.5 s must stay at 0.5 s: convert() removes the filter delay.
  std::vector<int16_t> click(8000, 0);
  for (int i = 0; i < 8; ++i) click[4000 + i] = 20000;
  const auto up = Resampler::convert(click, 8000, 16000);
  size_t where = 0;
  for (size_t i = 0; i < up.size(); ++i) {
    if (std::abs(up[i]) > std::abs(up[where])) where = i;
  }
  EXPECT_NEAR(double(where), 8000.0 + 8.0, 8.0);
}

TEST(Resampler, FromEspeakRateTo8kAnd16k) {
  const auto tone = make_tone(22050, 1000.0, 1.0, 0.5);
  for (int rate : {8000, 16000}) {
    const auto out = Resampler::convert(tone, 22050, rate);
    EXPECT_EQ(out.size(), size_t(rate));
    EXPECT_NEAR(crossings_per_second(out, rate), 2000.0, 10.0) << rate;
    EXPECT_NEAR(dbfs(middle(out)), dbfs(middle(tone)), 0.5) << rate;
  }
}

TEST(Resampler, DownsamplingRemovesWhatCannotBeRepresented) {
  // 6 kHz is above the 4 kHz Nyquist limit of 8 kHz: it must be filtered, not aliased to 2 kHz.
  const auto tone = make_tone(16000, 6000.0, 1.0, 0.5);
  const auto out = Resampler::convert(tone, 16000, 8000);
  EXPECT_LT(dbfs(middle(out)), dbfs(middle(tone)) - 30.0);
}

TEST(Resampler, FrameByFrameGivesFullFramesAndAContinuousTone) {
  Resampler up(8000, 16000);
  ToneGenerator gen(8000, 1000.0);
  std::vector<int16_t> joined;
  for (int i = 0; i < 50; ++i) {
    AudioFrame in = AudioFrame::silence(8000);
    gen.fill(in.data());
    AudioFrame out;
    ASSERT_TRUE(up.process(in, out));
    EXPECT_EQ(out.sample_rate, 16000);
    EXPECT_EQ(out.samples, 320);
    joined.insert(joined.end(), out.data().begin(), out.data().end());
  }
  EXPECT_NEAR(crossings_per_second(joined, 16000), 2000.0, 10.0);

  Resampler down(16000, 8000);
  AudioFrame wide = AudioFrame::silence(16000), narrow;
  ASSERT_TRUE(down.process(wide, narrow));
  EXPECT_EQ(narrow.samples, 160);
}

TEST(Resampler, FrameAtWrongRateIsRefused) {
  Resampler up(8000, 16000);
  AudioFrame in = AudioFrame::silence(16000), out;
  out.samples = 7;
  EXPECT_FALSE(up.process(in, out));
  EXPECT_EQ(out.samples, 7);
}

TEST(Resampler, OutputBoundedByCallerBuffer) {
  Resampler up(8000, 16000);
  std::vector<int16_t> in(160, 1000), out(100);
  auto r = up.process(in, out);
  EXPECT_LE(r.written, out.size());
  EXPECT_LT(r.consumed, in.size());
  EXPECT_GE(up.max_output(160), 320u);
}

TEST(Resampler, RejectsBadConfiguration) {
  EXPECT_THROW(Resampler(0, 8000), std::invalid_argument);
  EXPECT_THROW(Resampler(8000, -1), std::invalid_argument);
  EXPECT_THROW(Resampler(8000, 16000, 11), std::invalid_argument);
}

TEST(Resampler, MovedFromIsHarmless) {
  Resampler a(8000, 16000);
  Resampler b(std::move(a));
  std::vector<int16_t> in(160, 0), out(400);
  EXPECT_EQ(a.process(in, out).written, 0u);  // NOLINT(bugprone-use-after-move)
  EXPECT_GT(b.process(in, out).written, 0u);
}

}  // namespace
}  // namespace atende::audio
