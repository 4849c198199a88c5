#include <gtest/gtest.h>

#include <cmath>

#include "audio/levels.h"
#include "audio/tone.h"

namespace atende::audio {
namespace {

TEST(Levels, SilenceAndEmpty) {
  std::vector<int16_t> zeros(160, 0);
  EXPECT_EQ(rms(zeros), 0.0);
  EXPECT_EQ(dbfs(zeros), kSilenceDbfs);
  EXPECT_EQ(dbfs({}), kSilenceDbfs);
  EXPECT_EQ(peak(zeros), 0);
}

TEST(Levels, FullScaleSquareIsZeroDbfs) {
  std::vector<int16_t> square(160);
  for (size_t i = 0; i < square.size(); ++i) square[i] = (i / 4) % 2 ? -32768 : 32767;
  EXPECT_NEAR(dbfs(square), 0.0, 0.01);
  EXPECT_EQ(peak(square), 32768);
}

TEST(Levels, HalfScaleSineIsAboutMinusNineDbfs) {
  const auto tone = make_tone(8000, 1000.0, 0.5, 0.5);
  // 20*log10(0.5 / sqrt(2)) = -9.03 dB.
  EXPECT_NEAR(dbfs(tone), -9.03, 0.1);
  EXPECT_NEAR(rms(tone), 0.5 * 32767 / std::sqrt(2.0), 50.0);
  EXPECT_NEAR(peak(tone), 16384, 2);
}

TEST(Tone, PhaseContinuousAcrossFills) {
  ToneGenerator a(8000, 440.0), b(8000, 440.0);
  std::vector<int16_t> whole(480), parts(480);
  a.fill(whole);
  b.fill(std::span(parts).first(160));
  b.fill(std::span(parts).subspan(160, 160));
  b.fill(std::span(parts).subspan(320));
  EXPECT_EQ(whole, parts);
}

TEST(Tone, DualToneStaysInRangeAndHasBothComponents) {
  ToneGenerator gen(8000, 697.0, 1209.0, 0.9);  // DTMF "1"
  std::vector<int16_t> pcm(8000);
  gen.fill(pcm);
  EXPECT_LE(peak(pcm), int(0.9 * 32767) + 1);
  EXPECT_GT(peak(pcm), int(0.8 * 32767));
  // Correlate with each component: both present, an unrelated frequency absent.
  auto strength = [&](double f) {
    double re = 0, im = 0;
    for (size_t i = 0; i < pcm.size(); ++i) {
      re += pcm[i] * std::cos(2 * M_PI * f * i / 8000);
      im += pcm[i] * std::sin(2 * M_PI * f * i / 8000);
    }
    return std::hypot(re, im) / pcm.size();
  };
  EXPECT_GT(strength(697.0), 5000.0);
  EXPECT_GT(strength(1209.0), 5000.0);
  EXPECT_LT(strength(941.0), 100.0);
}

}  // namespace
}  // namespace atende::audio
