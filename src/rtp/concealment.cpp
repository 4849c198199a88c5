#include "rtp/concealment.h"

#include <algorithm>
#include <cstring>

namespace atende::rtp {

Concealer::Concealer(int sample_rate) : rate_(std::clamp(sample_rate, 8000, kMaxRate)) {
  history_len_ = rate_ * 48 / 1000;
  min_pitch_ = rate_ / 400;        // 2.5 ms (400 Hz)
  max_pitch_ = rate_ * 15 / 1000;  // 15 ms (66 Hz)
}

int Concealer::find_pitch() const {
  // The lag whose shifted copy best matches the last max_pitch_ samples (normalised
  // cross-correlation, compared without division).
  const int16_t* h = history_.data() + kHistoryLen - history_len_;
  const int window = max_pitch_;
  const int16_t* ref = h + history_len_ - window;
  int best = max_pitch_;
  double best_num = 0, best_den = 1;
  for (int lag = min_pitch_; lag <= max_pitch_; ++lag) {
    const int16_t* cand = ref - lag;
    double num = 0, den = 0;
    for (int i = 0; i < window; ++i) {
      num += static_cast<double>(ref[i]) * cand[i];
      den += static_cast<double>(cand[i]) * cand[i];
    }
    if (num <= 0 || den <= 0) continue;
    // num/sqrt(den) > best_num/sqrt(best_den)  <=>  num^2 * best_den > best_num^2 * den
    if (num * num * best_den > best_num * best_num * den) {
      best = lag;
      best_num = num;
      best_den = den;
    }
  }
  return best;
}

float Concealer::next_synthetic() {
  const int16_t* period = history_.data() + kHistoryLen - pitch_;
  const float sample = period[phase_];
  phase_ = (phase_ + 1) % pitch_;
  // Full level for 10 ms, then a linear fade that reaches silence at 60 ms.
  const int full = rate_ / 100;
  const int fade = rate_ * 50 / 1000;
  float gain = 1.0f;
  if (lost_samples_ > full)
    gain = std::max(0.0f, 1.0f - static_cast<float>(lost_samples_ - full) / fade);
  if (lost_samples_ <= full + fade) ++lost_samples_;  // saturate: silent from here on
  return sample * gain;
}

void Concealer::fill(std::span<int16_t> out) {
  if (lost_samples_ == 0) {
    std::copy(ring_.begin() + ring_pos_, ring_.end(), history_.begin());
    std::copy(ring_.begin(), ring_.begin() + ring_pos_, history_.end() - ring_pos_);
    pitch_ = find_pitch();
    phase_ = 0;
  }
  for (int16_t& s : out) s = static_cast<int16_t>(next_synthetic());
}

void Concealer::on_good(std::span<int16_t> frame) {
  if (lost_samples_ > 0) {
    const int join = std::min<int>(rate_ / 200, static_cast<int>(frame.size()));  // 5 ms
    for (int i = 0; i < join; ++i) {
      const float w = static_cast<float>(i + 1) / (join + 1);
      const float mixed = next_synthetic() * (1 - w) + frame[i] * w;
      frame[i] = static_cast<int16_t>(std::clamp(mixed, -32768.0f, 32767.0f));
    }
    lost_samples_ = 0;
  }
  const size_t n = std::min<size_t>(frame.size(), kHistoryLen);
  if (n == 0) return;
  // The newest samples are the frame's last ones; at most two runs around the ring.
  const int16_t* src = frame.last(n).data();
  const size_t first = std::min(n, static_cast<size_t>(kHistoryLen - ring_pos_));
  std::copy_n(src, first, ring_.begin() + ring_pos_);
  std::copy_n(src + first, n - first, ring_.begin());
  ring_pos_ = static_cast<int>((ring_pos_ + n) % kHistoryLen);
}

}  // namespace atende::rtp
