// Sample-rate conversion for 16-bit mono PCM, wrapping speexdsp's resampler.
// Legs run at 8 or 16 kHz, espeak-ng speaks at 22,050 Hz, recordings may be anything:
// one Resampler per direction of a stream (it keeps filter state between frames), or
// Resampler::convert() for a whole clip.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/audio_frame.h"

struct SpeexResamplerState_;

namespace atende::audio {

// speexdsp quality 0..10. 4 is speex's "VoIP" default: transparent for telephone speech
// at a few hundred ns per sample. Clips (synthesised once, cached) can afford more.
constexpr int kStreamResamplerQuality = 4;
constexpr int kClipResamplerQuality = 5;

class Resampler {
 public:
  struct Result {
    size_t consumed = 0;  // input samples used
    size_t written = 0;   // output samples produced
  };

  // Throws std::invalid_argument for rates outside 1 Hz..384 kHz or quality outside 0..10.
  // Allocates the filter here, never in process().
  Resampler(int from_rate, int to_rate, int quality = kStreamResamplerQuality);
  ~Resampler();
  Resampler(Resampler&& other) noexcept;
  Resampler& operator=(Resampler&& other) noexcept;
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  int from_rate() const { return from_rate_; }
  int to_rate() const { return to_rate_; }

  // Streaming: converts as much of `in` as fits into `out`. No allocation, no locking.
  // Filter state carries over to the next call, so successive frames join seamlessly.
  Result process(std::span<const int16_t> in, std::span<int16_t> out);

  // One 20 ms frame in at from_rate(), one out at to_rate(). False (and `out` untouched)
  // if `in` is not at from_rate() or to_rate() does not fit an AudioFrame. For 8k<->16k
  // the output is always a full frame; for ratios that do not divide evenly, out.samples
  // can differ from a full frame by one sample from frame to frame.
  bool process(const AudioFrame& in, AudioFrame& out);

  // Forget filter history (start of a new stream, after a barge-in flush).
  void reset();

  // Upper bound of output samples for `in_samples` input samples (for sizing buffers).
  size_t max_output(size_t in_samples) const;

  // Whole clip: no filter delay at the start, the filter tail flushed at the end, so the
  // result lines up with the input and has round(n * to / from) samples. Allocates.
  static std::vector<int16_t> convert(std::span<const int16_t> in, int from_rate, int to_rate,
                                      int quality = kClipResamplerQuality);

 private:
  SpeexResamplerState_* state_ = nullptr;
  int from_rate_ = 0;
  int to_rate_ = 0;
};

}  // namespace atende::audio
