#include "audio/tone.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace atende::audio {

ToneGenerator::ToneGenerator(int sample_rate, double freq1_hz, double freq2_hz, double amplitude)
    : step1_(2.0 * std::numbers::pi * freq1_hz / std::max(sample_rate, 1)),
      step2_(2.0 * std::numbers::pi * freq2_hz / std::max(sample_rate, 1)),
      scale_(std::clamp(amplitude, 0.0, 1.0) * 32767.0 / (freq2_hz > 0.0 ? 2.0 : 1.0)),
      dual_(freq2_hz > 0.0) {}

void ToneGenerator::fill(std::span<int16_t> out) {
  constexpr double kTwoPi = 2.0 * std::numbers::pi;
  for (int16_t& sample : out) {
    double v = std::sin(phase1_);
    if (dual_) v += std::sin(phase2_);
    sample = static_cast<int16_t>(std::lround(v * scale_));
    // Wrap the phase so precision does not decay over a long call.
    phase1_ = std::fmod(phase1_ + step1_, kTwoPi);
    phase2_ = std::fmod(phase2_ + step2_, kTwoPi);
  }
}

std::vector<int16_t> make_tone(int sample_rate, double freq_hz, double seconds, double amplitude) {
  std::vector<int16_t> pcm(static_cast<size_t>(std::max(0.0, seconds * sample_rate)));
  ToneGenerator(sample_rate, freq_hz, 0.0, amplitude).fill(pcm);
  return pcm;
}

}  // namespace atende::audio
