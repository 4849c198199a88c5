#include "audio/vad_webrtc.h"

#include <algorithm>
#include <stdexcept>
#include <string>

// The library's headers predate C++20 and warn under -Wall -Wextra; they are not ours.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <webrtc/modules/audio_processing/include/audio_processing.h>
#include <webrtc/modules/interface/module_common_types.h>
#pragma GCC diagnostic pop

namespace atende::audio {

namespace {

webrtc::VoiceDetection::Likelihood to_webrtc(VadLikelihood l) {
  switch (l) {
    case VadLikelihood::kVeryLow:
      return webrtc::VoiceDetection::kVeryLowLikelihood;
    case VadLikelihood::kLow:
      return webrtc::VoiceDetection::kLowLikelihood;
    case VadLikelihood::kModerate:
      return webrtc::VoiceDetection::kModerateLikelihood;
    case VadLikelihood::kHigh:
      break;
  }
  return webrtc::VoiceDetection::kHighLikelihood;
}

webrtc::NoiseSuppression::Level to_webrtc(NoiseSuppressionLevel l) {
  switch (l) {
    case NoiseSuppressionLevel::kLow:
      return webrtc::NoiseSuppression::kLow;
    case NoiseSuppressionLevel::kHigh:
      return webrtc::NoiseSuppression::kHigh;
    case NoiseSuppressionLevel::kVeryHigh:
      return webrtc::NoiseSuppression::kVeryHigh;
    default:
      break;
  }
  return webrtc::NoiseSuppression::kModerate;
}

void check(int rc, const char* what) {
  if (rc != webrtc::AudioProcessing::kNoError) {
    throw std::runtime_error(std::string("webrtc audio processing: ") + what + " failed (" +
                             std::to_string(rc) + ")");
  }
}

}  // namespace

struct WebRtcVad::Impl {
  std::unique_ptr<webrtc::AudioProcessing> apm;
  webrtc::AudioFrame frame;  // ~7.7 KB of sample storage, reused for every 10 ms
};

WebRtcVad::WebRtcVad(WebRtcVadOptions options) : options_(options), impl_(new Impl) {
  if (options_.sample_rate != 8000 && options_.sample_rate != 16000) {
    throw std::invalid_argument("WebRtcVad: sample rate must be 8000 or 16000, not " +
                                std::to_string(options_.sample_rate));
  }
  impl_->apm.reset(webrtc::AudioProcessing::Create());
  if (!impl_->apm) throw std::runtime_error("webrtc audio processing: Create failed");
  auto* apm = impl_->apm.get();
  check(apm->Initialize(options_.sample_rate, options_.sample_rate, options_.sample_rate,
                        webrtc::AudioProcessing::kMono, webrtc::AudioProcessing::kMono,
                        webrtc::AudioProcessing::kMono),
        "Initialize");
  check(apm->voice_detection()->Enable(true), "voice_detection Enable");
  check(apm->voice_detection()->set_likelihood(to_webrtc(options_.likelihood)),
        "voice_detection set_likelihood");
  check(apm->voice_detection()->set_frame_size_ms(10), "voice_detection set_frame_size_ms");
  if (options_.noise_suppression != NoiseSuppressionLevel::kOff) {
    check(apm->noise_suppression()->set_level(to_webrtc(options_.noise_suppression)),
          "noise_suppression set_level");
    check(apm->noise_suppression()->Enable(true), "noise_suppression Enable");
  }
  impl_->frame.num_channels_ = 1;
  impl_->frame.sample_rate_hz_ = options_.sample_rate;
  impl_->frame.samples_per_channel_ = size_t(options_.sample_rate / 100);
}

WebRtcVad::~WebRtcVad() = default;

void WebRtcVad::reset() {
  // Initialize() clears the VAD's and suppressor's adaptation, keeping the settings.
  impl_->apm->Initialize();
  denoised_samples_ = 0;
}

Vad::Verdict WebRtcVad::detect(std::span<const int16_t> pcm, double level_dbfs) {
  const int rate = options_.sample_rate;

  const size_t sub = size_t(rate / 100);  // 10 ms: the library's unit
  const size_t parts = pcm.size() / sub;
  webrtc::AudioFrame& f = impl_->frame;
  int voiced = 0;
  for (size_t i = 0; i < parts; ++i) {
    // ProcessStream rewrites the frame's metadata (VAD activity) and, with noise
    // suppression, its samples: set both every time.
    f.num_channels_ = 1;
    f.sample_rate_hz_ = rate;
    f.samples_per_channel_ = sub;
    std::copy_n(pcm.data() + i * sub, sub, f.data_);
    if (impl_->apm->ProcessStream(&f) != webrtc::AudioProcessing::kNoError) {
      // Not expected with a fixed format; judge the part as not speech rather than guess.
      std::copy_n(pcm.data() + i * sub, sub, denoised_.data() + i * sub);
      continue;
    }
    if (impl_->apm->voice_detection()->stream_has_voice()) ++voiced;
    std::copy_n(f.data_, sub, denoised_.data() + i * sub);
  }
  denoised_samples_ = pcm.size();
  const float probability = float(voiced) / float(parts);
  return {voiced > 0, probability};
}

}  // namespace atende::audio
