#include "media/playout.h"

#include <algorithm>

namespace atende::media {

Playout::Playout(int sample_rate)
    : rate_(sample_rate),
      frame_samples_(static_cast<size_t>(samples_per_frame(sample_rate))),
      live_(kMaxLiveFrames * frame_samples_) {}

bool Playout::push_clip(ClipPtr clip) {
  if (!clip || clip->pcm.empty()) return true;
  if (clip_count_ == kMaxClips) {
    ++dropped_clips_;
    return false;
  }
  clips_[(clip_head_ + clip_count_) % kMaxClips] = std::move(clip);
  ++clip_count_;
  return true;
}

void Playout::push_frame(const AudioFrame& frame) {
  if (live_count_ == kMaxLiveFrames) {
    live_head_ = (live_head_ + 1) % kMaxLiveFrames;
    --live_count_;
    ++dropped_frames_;
  }
  int16_t* slot = live_.data() + (live_head_ + live_count_) % kMaxLiveFrames * frame_samples_;
  const size_t n = std::min(frame_samples_, static_cast<size_t>(std::max(frame.samples, 0)));
  std::copy_n(frame.pcm.data(), n, slot);
  std::fill(slot + n, slot + frame_samples_, int16_t{0});
  ++live_count_;
}

void Playout::clear() {
  for (size_t i = 0; i < clip_count_; ++i) clips_[(clip_head_ + i) % kMaxClips].reset();
  clip_head_ = clip_count_ = clip_pos_ = 0;
  live_head_ = live_count_ = 0;
}

bool Playout::next(AudioFrame& out) {
  const int n = samples_per_frame(rate_);
  out.sample_rate = rate_;
  out.samples = n;
  if (live_count_ > 0) {
    std::copy_n(live_.data() + live_head_ * frame_samples_, frame_samples_, out.pcm.data());
    live_head_ = (live_head_ + 1) % kMaxLiveFrames;
    --live_count_;
    return true;
  }
  if (clip_count_ == 0) return false;
  const Clip& clip = *clips_[clip_head_];
  const size_t take = std::min<size_t>(n, clip.pcm.size() - clip_pos_);
  std::copy_n(clip.pcm.data() + clip_pos_, take, out.pcm.data());
  std::fill(out.pcm.data() + take, out.pcm.data() + n, int16_t{0});
  clip_pos_ += take;
  if (clip_pos_ >= clip.pcm.size()) {
    clips_[clip_head_].reset();  // last reference may free here: fine, it is a whole clip
    clip_head_ = (clip_head_ + 1) % kMaxClips;
    --clip_count_;
    clip_pos_ = 0;
  }
  return true;
}

}  // namespace atende::media
