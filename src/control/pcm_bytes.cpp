#include "control/pcm_bytes.h"

#include <memory>

namespace atende::control {
namespace {

bool known_rate(int rate) { return rate == 8000 || rate == 16000; }

int16_t sample_at(std::string_view bytes, size_t i) {
  const auto lo = static_cast<uint8_t>(bytes[2 * i]);
  const auto hi = static_cast<uint8_t>(bytes[2 * i + 1]);
  return static_cast<int16_t>(uint16_t(lo) | uint16_t(hi) << 8);
}

}  // namespace

bool pcm_to_frame(std::string_view bytes, int rate, AudioFrame& out, std::string* why) {
  if (!known_rate(rate)) {
    if (why) *why = "sample_rate must be 8000 or 16000";
    return false;
  }
  const size_t want = static_cast<size_t>(samples_per_frame(rate));
  if (bytes.size() != want * 2) {
    if (why) *why = "an audio frame is 20 ms: " + std::to_string(want * 2) + " bytes";
    return false;
  }
  out.sample_rate = rate;
  out.samples = static_cast<int>(want);
  for (size_t i = 0; i < want; ++i) out.pcm[i] = sample_at(bytes, i);
  return true;
}

void frame_to_pcm(const AudioFrame& frame, std::string& out) {
  const auto pcm = frame.data();
  out.resize(pcm.size() * 2);
  for (size_t i = 0; i < pcm.size(); ++i) {
    const auto u = static_cast<uint16_t>(pcm[i]);
    out[2 * i] = static_cast<char>(u & 0xff);
    out[2 * i + 1] = static_cast<char>(u >> 8);
  }
}

ClipPtr pcm_to_clip(std::string_view bytes, int rate, std::string* why) {
  if (!known_rate(rate)) {
    if (why) *why = "sample_rate must be 8000 or 16000";
    return nullptr;
  }
  if (bytes.empty() || bytes.size() % 2 != 0) {
    if (why) *why = "pcm must be whole 16-bit samples";
    return nullptr;
  }
  const size_t n = bytes.size() / 2;
  if (n > static_cast<size_t>(rate) * kMaxPlaySeconds) {
    if (why) *why = "a clip is at most " + std::to_string(kMaxPlaySeconds) + " s";
    return nullptr;
  }
  auto clip = std::make_shared<Clip>();
  clip->sample_rate = rate;
  clip->label = "controller clip";
  clip->pcm.resize(n);
  for (size_t i = 0; i < n; ++i) clip->pcm[i] = sample_at(bytes, i);
  return clip;
}

bool valid_dtmf(std::string_view digits) {
  if (digits.empty() || digits.size() > kMaxDtmfDigits) return false;
  for (char c : digits) {
    const bool ok = (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
    if (!ok) return false;
  }
  return true;
}

}  // namespace atende::control
