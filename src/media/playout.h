// What a leg is about to send: live frames first (echo, streaming synthesis), then queued
// clips in order. Fixed capacity, no allocation when frames are taken; the media thread
// owns it.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/audio_frame.h"
#include "core/clip.h"

namespace atende::media {

class Playout {
 public:
  static constexpr size_t kMaxClips = 32;
  static constexpr size_t kMaxLiveFrames = 25;  // 500 ms of live audio

  explicit Playout(int sample_rate);

  // false when the clip queue is full (the clip is dropped).
  bool push_clip(ClipPtr clip);
  // Live frames overwrite the oldest when full: latency matters more than completeness.
  void push_frame(const AudioFrame& frame);
  void clear();
  bool empty() const { return clip_count_ == 0 && live_count_ == 0; }
  // Fills `out` with the next 20 ms (zero-padded at a clip's end). false if nothing queued.
  bool next(AudioFrame& out);
  uint64_t dropped_clips() const { return dropped_clips_; }
  uint64_t dropped_frames() const { return dropped_frames_; }

 private:
  int rate_;
  size_t frame_samples_;  // samples in 20 ms at rate_
  size_t clip_head_ = 0, clip_count_ = 0, clip_pos_ = 0;
  // Live frames as packed samples (frame i at i * frame_samples_), not whole AudioFrames:
  // a frame's array is sized for the highest rate, and 25 of them were most of a call's memory
  // and of the bytes each tick copied.
  std::vector<int16_t> live_;
  size_t live_head_ = 0, live_count_ = 0;
  uint64_t dropped_clips_ = 0, dropped_frames_ = 0;
  // Last: a tick reads the counters above and, only while a clip plays, one entry here.
  std::array<ClipPtr, kMaxClips> clips_{};
};

}  // namespace atende::media
