// A fixed-size queue of 20 ms audio frames that never blocks and never grows: when it is
// full, the oldest frame is dropped (and counted) to make room, so a slow reader loses the
// stale audio, never the fresh. Allocated once; push and pop copy a frame and allocate
// nothing, so the media thread may use it every tick. Not thread-safe: the owner locks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/audio_frame.h"

namespace atende::control {

class FrameRing {
 public:
  explicit FrameRing(size_t capacity) : frames_(capacity == 0 ? 1 : capacity) {}

  // Queues a copy of `f`. False when the oldest frame had to be dropped for it.
  bool push(const AudioFrame& f) {
    bool kept_all = true;
    if (size_ == frames_.size()) {
      head_ = (head_ + 1) % frames_.size();
      --size_;
      ++dropped_;
      kept_all = false;
    }
    frames_[(head_ + size_) % frames_.size()] = f;
    ++size_;
    return kept_all;
  }
  // The oldest frame into `out`; false when empty.
  bool pop(AudioFrame& out) {
    if (size_ == 0) return false;
    out = frames_[head_];
    head_ = (head_ + 1) % frames_.size();
    --size_;
    return true;
  }
  void clear() { head_ = size_ = 0; }
  size_t size() const { return size_; }
  size_t capacity() const { return frames_.size(); }
  bool empty() const { return size_ == 0; }
  uint64_t dropped() const { return dropped_; }

 private:
  std::vector<AudioFrame> frames_;
  size_t head_ = 0;
  size_t size_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace atende::control
