// The WebRTC voice activity detector (a GMM over sub-band energies), through
// libwebrtc-audio-processing 0.3's documented AudioProcessing API: voice_detection() on
// 10 ms frames, stream_has_voice() after each ProcessStream(). Debian's library has no
// webrtc_vad.h; its exported WebRtcVad_* symbols are not a stable interface, so we do not
// call them (see ../shared/notes/test-peers.md).
//
// A 20 ms frame is judged as two 10 ms frames: speech if either held voice, probability
// the share that did. With noise_suppression on, the frame is denoised first (the VAD then
// sees cleaner audio) and the denoised samples are available from denoised() for the
// recogniser.
//
// Example: WebRtcVad vad({.sample_rate = 8000});
//          VadDecision d = vad.process(frame);   // on the media thread, every 20 ms
#pragma once
#include <array>
#include <memory>

#include "audio/vad.h"

namespace atende::audio {

enum class VadLikelihood {
  kVeryLow,  // least likely to call a frame voice: fewest false alarms, may clip onsets
  kLow,
  kModerate,  // WebRTC's default
  kHigh,      // most likely to call a frame voice: never clips speech, takes more noise
};

enum class NoiseSuppressionLevel { kOff, kLow, kModerate, kHigh, kVeryHigh };

struct WebRtcVadOptions {
  int sample_rate = 8000;  // 8000 or 16000
  VadLikelihood likelihood = VadLikelihood::kLow;
  NoiseSuppressionLevel noise_suppression = NoiseSuppressionLevel::kOff;
};

class WebRtcVad : public Vad {
 public:
  // Throws std::invalid_argument for a rate other than 8/16 kHz, std::runtime_error if the
  // library refuses the configuration. All allocation happens here.
  explicit WebRtcVad(WebRtcVadOptions options = {});
  ~WebRtcVad() override;
  WebRtcVad(const WebRtcVad&) = delete;
  WebRtcVad& operator=(const WebRtcVad&) = delete;

  int sample_rate() const override { return options_.sample_rate; }
  void reset() override;

  // The last judged frame after noise suppression (the input unchanged when it is off).
  std::span<const int16_t> denoised() const { return {denoised_.data(), denoised_samples_}; }

 protected:
  Verdict detect(std::span<const int16_t> pcm, double level_dbfs) override;

 private:
  struct Impl;
  WebRtcVadOptions options_;
  std::unique_ptr<Impl> impl_;
  std::array<int16_t, kMaxFrameSamples> denoised_{};
  size_t denoised_samples_ = 0;
};

}  // namespace atende::audio
