#include <gtest/gtest.h>

#include <random>

#include "audio/correlation.h"
#include "audio/resampler.h"
#include "audio/tone.h"

namespace atende::audio {
namespace {

std::vector<int16_t> noise(size_t n, int amplitude, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-amplitude, amplitude);
  std::vector<int16_t> v(n);
  for (auto& s : v) s = int16_t(dist(rng));
  return v;
}

// Something speech-like and distinctive: a chirp with an envelope.
std::vector<int16_t> chirp(size_t n, int rate, double f0, double f1) {
  std::vector<int16_t> v(n);
  double phase = 0;
  for (size_t i = 0; i < n; ++i) {
    const double t = double(i) / n;
    phase += 2 * M_PI * (f0 + (f1 - f0) * t) / rate;
    v[i] = int16_t(12000 * std::sin(phase) * std::sin(M_PI * t));
  }
  return v;
}

TEST(Correlation, FindsClipInsertedIntoNoiseAndRejectsUnrelated) {
  const int rate = 8000;
  const auto needle = chirp(8000, rate, 300, 2500);
  auto haystack = noise(10 * rate, 2000, 1);
  const size_t at = 37123;
  for (size_t i = 0; i < needle.size(); ++i) {
    haystack[at + i] = int16_t(std::clamp(haystack[at + i] + needle[i], -32768, 32767));
  }

  const ClipMatch hit = find_clip(needle, haystack);
  EXPECT_EQ(hit.offset, at);
  EXPECT_GT(hit.score, 0.9);

  const auto unrelated = chirp(8000, rate, 3000, 600);  // falling, other band
  const ClipMatch miss = find_clip(unrelated, haystack);
  EXPECT_LT(miss.score, 0.3);
}

TEST(Correlation, SurvivesResamplingRoundTrip) {
  // What a softphone hears went through rate changes: the match must still be strong.
  const auto needle = chirp(4000, 8000, 400, 3000);
  std::vector<int16_t> haystack(40000, 0);
  std::copy(needle.begin(), needle.end(), haystack.begin() + 20000);
  const auto degraded = Resampler::convert(Resampler::convert(haystack, 8000, 16000), 16000, 8000);
  const ClipMatch hit = find_clip(needle, degraded);
  EXPECT_NEAR(double(hit.offset), 20000.0, 2.0);
  EXPECT_GT(hit.score, 0.9);
}

TEST(Correlation, AcrossManyOverlapSaveBlocks) {
  // A short needle makes small blocks: the match lies many blocks in.
  const auto needle = chirp(300, 8000, 500, 1500);
  auto haystack = noise(200000, 500, 2);
  std::copy(needle.begin(), needle.end(), haystack.begin() + 187654);
  const ClipMatch hit = find_clip(needle, haystack);
  EXPECT_EQ(hit.offset, 187654u);
  EXPECT_GT(hit.score, 0.9);
}

TEST(Correlation, MatchAtVeryEnd) {
  const auto needle = chirp(1000, 8000, 500, 1500);
  auto haystack = noise(5000, 300, 3);
  std::copy(needle.begin(), needle.end(), haystack.end() - 1000);
  EXPECT_EQ(find_clip(needle, haystack).offset, 4000u);
  EXPECT_EQ(find_clip(needle, needle).offset, 0u);
  EXPECT_GT(find_clip(needle, needle).score, 0.999);
}

TEST(Correlation, DegenerateInputs) {
  const auto needle = chirp(1000, 8000, 500, 1500);
  EXPECT_EQ(find_clip({}, needle).score, 0.0);
  EXPECT_EQ(find_clip(needle, std::span(needle).first(10)).score, 0.0);
  std::vector<int16_t> silent(500, 0);
  EXPECT_EQ(find_clip(silent, needle).score, 0.0);
  // Silence in the haystack never wins over the real match, nor produces NaN.
  std::vector<int16_t> mostly_silent(20000, 0);
  std::copy(needle.begin(), needle.end(), mostly_silent.begin() + 12000);
  const auto hit = find_clip(needle, mostly_silent);
  EXPECT_EQ(hit.offset, 12000u);
  EXPECT_GT(hit.score, 0.99);
}

TEST(CorrelationEnvelope, FindsSameLoudnessShapeDespiteDifferentWaveform) {
  // Same envelope, slightly different pitch (as two espeak-ng renderings): the waveform
  // search fails, the envelope search finds it. A different envelope scores low.
  const int rate = 8000;
  auto shaped = [&](double f, double bumps) {
    std::vector<int16_t> v(16000);
    for (size_t i = 0; i < v.size(); ++i) {
      const double env = std::abs(std::sin(M_PI * bumps * i / v.size())) * (i % 5000 < 4000);
      v[i] = int16_t(10000 * env * std::sin(2 * M_PI * f * i / rate));
    }
    return v;
  };
  const auto needle = shaped(500, 3), rendered_again = shaped(530, 3);
  auto haystack = noise(8 * rate, 300, 4);
  for (size_t i = 0; i < rendered_again.size(); ++i) haystack[24000 + i] += rendered_again[i];
  EXPECT_LT(find_clip(needle, haystack).score, 0.5);
  const ClipMatch hit = find_clip_envelope(needle, haystack, rate);
  EXPECT_EQ(hit.offset, 24000u);
  EXPECT_GT(hit.score, 0.85);
  EXPECT_LT(find_clip_envelope(shaped(2000, 7), haystack, rate).score, 0.5);
  EXPECT_EQ(find_clip_envelope(needle, haystack, 0).score, 0.0);
}

}  // namespace
}  // namespace atende::audio
