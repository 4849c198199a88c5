// Test audio for the agent's ears: espeak-ng speech, silence, white noise and Debian's
// pocketsphinx-testdata recordings, laid end to end on a timeline, and a driver that feeds
// it in 20 ms frames through a real WebRTC VAD with a fake clock.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "audio/resampler.h"
#include "audio/vad_webrtc.h"
#include "core/audio_frame.h"
#include "core/clock.h"
#include "speech/espeak_synthesizer.h"

namespace atende::turn::testing {

constexpr int kRate = 8000;
constexpr size_t kFrame = 160;  // 20 ms at 8 kHz

inline speech::EspeakSynthesizer& tts() {
  static speech::EspeakSynthesizer engine;
  return engine;
}

// Synthesised speech at 8 kHz.
inline std::vector<int16_t> say(const std::string& text, const std::string& voice = "en-us") {
  ClipPtr clip = tts().synthesize({text, {voice, 165}, kRate});
  if (!clip) {
    ADD_FAILURE() << "espeak-ng could not say " << text;
    return {};
  }
  return clip->pcm;
}

// A real recording from pocketsphinx-testdata (16 kHz raw), as 8 kHz telephone audio.
inline std::vector<int16_t> recording(const std::string& name) {
  const std::string path = "/usr/share/pocketsphinx/test/data/" + name;
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    ADD_FAILURE() << path << " missing: install pocketsphinx-testdata (scripts/install-deps)";
    return {};
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), {});
  std::vector<int16_t> wide(bytes.size() / 2);
  std::memcpy(wide.data(), bytes.data(), wide.size() * 2);
  return audio::Resampler::convert(wide, 16000, kRate);
}

inline std::vector<int16_t> white_noise(int ms, double dbfs, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0.0, 32768.0 * std::pow(10.0, dbfs / 20.0));
  std::vector<int16_t> out(size_t(ms) * kRate / 1000);
  for (auto& s : out) s = int16_t(std::clamp(g(rng), -32768.0, 32767.0));
  return out;
}

inline std::vector<int16_t> scaled(std::vector<int16_t> pcm, double gain_db) {
  const double g = std::pow(10.0, gain_db / 20.0);
  for (auto& s : pcm) s = int16_t(std::clamp(s * g, -32768.0, 32767.0));
  return pcm;
}

// Audio laid end to end; remembers where each piece starts (in samples).
class Timeline {
 public:
  size_t silence(int ms) { return add(std::vector<int16_t>(size_t(ms) * kRate / 1000, 0)); }
  size_t add(const std::vector<int16_t>& pcm) {
    const size_t at = pcm_.size();
    pcm_.insert(pcm_.end(), pcm.begin(), pcm.end());
    return at;
  }
  // Mix `pcm` onto what is there from sample `at` (extending with silence if needed).
  void mix(size_t at, const std::vector<int16_t>& pcm) {
    if (pcm_.size() < at + pcm.size()) pcm_.resize(at + pcm.size(), 0);
    for (size_t i = 0; i < pcm.size(); ++i) {
      pcm_[at + i] = int16_t(std::clamp(int(pcm_[at + i]) + pcm[i], -32768, 32767));
    }
  }
  const std::vector<int16_t>& pcm() const { return pcm_; }
  size_t frames() const { return pcm_.size() / kFrame; }

 private:
  std::vector<int16_t> pcm_;
};

inline MonoTime t0() { return MonoTime{} + std::chrono::hours(1); }
inline MonoTime at_frame(size_t i) { return t0() + Millis{int64_t(i) * kFrameMs}; }
inline size_t frame_of(MonoTime t) { return size_t((t - t0()) / Millis{kFrameMs}); }
inline size_t frame_of_sample(size_t sample) { return sample / kFrame; }

inline AudioFrame frame_at(const std::vector<int16_t>& pcm, size_t index) {
  AudioFrame f = AudioFrame::silence(kRate);
  std::copy_n(pcm.begin() + index * kFrame, kFrame, f.pcm.begin());
  return f;
}

// First sample louder than `threshold` from `from`: where speech really begins.
inline size_t first_loud(const std::vector<int16_t>& pcm, size_t from = 0, int threshold = 300) {
  for (size_t i = from; i < pcm.size(); ++i) {
    if (std::abs(int(pcm[i])) > threshold) return i;
  }
  return pcm.size();
}

}  // namespace atende::turn::testing
