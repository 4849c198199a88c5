#include "audio/resampler.h"

#include <speex/speex_resampler.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace atende::audio {
namespace {

constexpr int kMaxRate = 384000;

}  // namespace

Resampler::Resampler(int from_rate, int to_rate, int quality)
    : from_rate_(from_rate), to_rate_(to_rate) {
  if (from_rate <= 0 || to_rate <= 0 || from_rate > kMaxRate || to_rate > kMaxRate) {
    throw std::invalid_argument("resampler: rate out of range: " + std::to_string(from_rate) +
                                " -> " + std::to_string(to_rate));
  }
  if (quality < SPEEX_RESAMPLER_QUALITY_MIN || quality > SPEEX_RESAMPLER_QUALITY_MAX) {
    throw std::invalid_argument("resampler: quality must be 0..10");
  }
  int err = RESAMPLER_ERR_SUCCESS;
  state_ = speex_resampler_init(1, static_cast<spx_uint32_t>(from_rate),
                                static_cast<spx_uint32_t>(to_rate), quality, &err);
  if (!state_ || err != RESAMPLER_ERR_SUCCESS) {
    throw std::invalid_argument(std::string("resampler: ") + speex_resampler_strerror(err));
  }
}

Resampler::~Resampler() {
  if (state_) speex_resampler_destroy(state_);
}

Resampler::Resampler(Resampler&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)),
      from_rate_(other.from_rate_),
      to_rate_(other.to_rate_) {}

Resampler& Resampler::operator=(Resampler&& other) noexcept {
  if (this != &other) {
    if (state_) speex_resampler_destroy(state_);
    state_ = std::exchange(other.state_, nullptr);
    from_rate_ = other.from_rate_;
    to_rate_ = other.to_rate_;
  }
  return *this;
}

Resampler::Result Resampler::process(std::span<const int16_t> in, std::span<int16_t> out) {
  if (!state_ || in.empty() || out.empty()) return {};
  // speex takes 32-bit lengths; clamp so a huge span cannot wrap.
  auto in_len = static_cast<spx_uint32_t>(std::min<size_t>(in.size(), UINT32_MAX));
  auto out_len = static_cast<spx_uint32_t>(std::min<size_t>(out.size(), UINT32_MAX));
  speex_resampler_process_int(state_, 0, in.data(), &in_len, out.data(), &out_len);
  return {in_len, out_len};
}

bool Resampler::process(const AudioFrame& in, AudioFrame& out) {
  if (in.sample_rate != from_rate_ || to_rate_ > kMaxFrameRate) return false;
  if (in.samples < 0 || in.samples > kMaxFrameSamples) return false;
  Result r = process(in.data(), std::span<int16_t>(out.pcm.data(), out.pcm.size()));
  out.sample_rate = to_rate_;
  out.samples = static_cast<int>(r.written);
  return true;
}

void Resampler::reset() {
  if (!state_) return;
  speex_resampler_reset_mem(state_);
}

size_t Resampler::max_output(size_t in_samples) const {
  // Ceiling of the exact ratio plus one for the fractional phase carried between calls.
  return (in_samples * static_cast<size_t>(to_rate_) + from_rate_ - 1) / from_rate_ + 1;
}

std::vector<int16_t> Resampler::convert(std::span<const int16_t> in, int from_rate, int to_rate,
                                        int quality) {
  if (from_rate == to_rate) return {in.begin(), in.end()};
  Resampler r(from_rate, to_rate, quality);
  // skip_zeros drops the filter's start-up delay from the output; feeding `latency`
  // zeros at the end pushes the last real samples out of the filter.
  speex_resampler_skip_zeros(r.state_);
  const size_t latency = static_cast<size_t>(speex_resampler_get_input_latency(r.state_));
  const size_t wanted =
      static_cast<size_t>((static_cast<double>(in.size()) * to_rate) / from_rate + 0.5);

  std::vector<int16_t> out(r.max_output(in.size() + latency) + 16);
  size_t written = 0;
  size_t pos = 0;
  while (pos < in.size() && written < out.size()) {
    Result step = r.process(in.subspan(pos), std::span<int16_t>(out).subspan(written));
    if (step.consumed == 0 && step.written == 0) break;
    pos += step.consumed;
    written += step.written;
  }
  std::vector<int16_t> zeros(latency + 1, 0);
  size_t zpos = 0;
  while (written < wanted && zpos < zeros.size() && written < out.size()) {
    Result step = r.process(std::span<const int16_t>(zeros).subspan(zpos),
                            std::span<int16_t>(out).subspan(written));
    if (step.consumed == 0 && step.written == 0) break;
    zpos += step.consumed;
    written += step.written;
  }
  out.resize(std::min(written, wanted));
  return out;
}

}  // namespace atende::audio
