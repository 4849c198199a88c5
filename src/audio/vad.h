// Voice activity detection: is the caller speaking in this frame? The turn detector and
// the barge-in policy (src/agent) decide on these per-frame answers, so every engine gives
// the same shape of answer and can be swapped or run side by side (a second opinion).
//
// Engines: WebRtcVad (vad_webrtc.h, the WebRTC GMM detector through libwebrtc-audio-
// processing; the default) and EnergyVad (vad_energy.h, an adaptive level threshold; for
// tests and as a cross-check). speexdsp's VAD is a stub and is deliberately not offered.
//
// Besides the engine's verdict every decision carries two cheap features of the frame,
// measured on the audio as given: its level and its zero-crossing rate. The agent uses
// them to refuse what a detector calls voice but is not: quiet echo and background talk
// (level), hiss and clicks (a voice has voiced, low-crossing frames; white noise crosses
// zero at about half the samples).
//
// Frames are 10 or 20 ms of mono PCM at the engine's sample_rate(). process() runs on the
// media thread: no allocation, no locking, no blocking.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "audio/levels.h"
#include "core/audio_frame.h"

namespace atende::audio {

// Below this zero-crossing rate (crossings per sample) a loud frame is voiced (vowels,
// nasals: ~0.02-0.2 at 8 kHz); white noise sits near 0.5, fricatives around 0.3-0.5.
constexpr float kVoicedMaxZeroCrossingRate = 0.25f;

struct VadDecision {
  bool speech = false;
  // 0..1. Binary engines report the share of their 10 ms sub-frames that held voice
  // (0, 0.5 or 1 for a 20 ms frame); EnergyVad a smooth value around its threshold.
  float probability = 0.0f;
  // The frame's level before any noise suppression.
  float level_dbfs = float(kSilenceDbfs);
  // Sign changes per sample pair, 0..1.
  float zero_crossing_rate = 0.0f;

  bool voiced() const { return speech && zero_crossing_rate < kVoicedMaxZeroCrossingRate; }
};

// Sign changes between neighbouring samples over (n - 1) pairs; 0 for fewer than 2.
float zero_crossing_rate(std::span<const int16_t> pcm);

// Whether `n` samples is a 10 or 20 ms frame at `rate`: what a Vad judges.
constexpr bool vad_frame_ok(size_t n, int rate) {
  return n > 0 && (n == size_t(rate / 100) || n == size_t(rate / 50));
}

class Vad {
 public:
  virtual ~Vad() = default;
  virtual int sample_rate() const = 0;

  // One 10 or 20 ms frame at sample_rate(). Any other length is not judged (speech false,
  // probability 0) but its features are still measured.
  VadDecision process(std::span<const int16_t> pcm);
  // A frame at another rate than sample_rate() is not judged either.
  VadDecision process(const AudioFrame& frame);

  // Forget adaptation state (a new call, or the stream was interrupted).
  virtual void reset() = 0;

 protected:
  struct Verdict {
    bool speech = false;
    float probability = 0.0f;
  };
  // The engine's judgement of a frame of valid length; `level_dbfs` is already measured.
  virtual Verdict detect(std::span<const int16_t> pcm, double level_dbfs) = 0;
};

}  // namespace atende::audio
