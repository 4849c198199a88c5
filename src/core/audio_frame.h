// One 20 ms frame of mono 16-bit PCM: the unit of audio between legs and the agent.
// Fixed-size storage so frames move through the media path without allocating.
#pragma once
#include <array>
#include <cstdint>
#include <span>

namespace atende {

constexpr int kFrameMs = 20;
constexpr int kMaxFrameRate = 16000;
constexpr int kMaxFrameSamples = kMaxFrameRate * kFrameMs / 1000;  // 320

constexpr int samples_per_frame(int sample_rate) { return sample_rate * kFrameMs / 1000; }

struct AudioFrame {
  int sample_rate = 8000;
  int samples = samples_per_frame(8000);
  std::array<int16_t, kMaxFrameSamples> pcm{};

  std::span<int16_t> data() { return {pcm.data(), static_cast<size_t>(samples)}; }
  std::span<const int16_t> data() const { return {pcm.data(), static_cast<size_t>(samples)}; }

  static AudioFrame silence(int sample_rate = 8000) {
    AudioFrame f;
    f.sample_rate = sample_rate;
    f.samples = samples_per_frame(sample_rate);
    return f;
  }
};

}  // namespace atende
