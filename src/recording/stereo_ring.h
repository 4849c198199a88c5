// The bounded hand-off between a media thread (one producer) and the recording writer
// thread (one consumer): a ring of fixed-size blocks, each one 20 ms tick of two channels
// interleaved (caller left, atende right). Allocated once when the recording starts; push
// copies a tick in and pop copies it out, with no lock and no allocation. When the writer
// falls behind and every block is full, push drops the tick and says so: the media thread
// never waits for the disk.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace atende::recording {

class StereoRing {
 public:
  // `blocks` ticks of up to `samples_per_channel` samples each.
  StereoRing(size_t blocks, size_t samples_per_channel)
      : blocks_(std::max<size_t>(blocks, 2)),
        block_samples_(samples_per_channel),
        data_(blocks_ * samples_per_channel * 2),
        sizes_(blocks_) {}

  size_t capacity() const { return blocks_; }
  size_t block_samples() const { return block_samples_; }

  // Producer. `left`/`right` may be nullptr (silence); `n` samples per channel, cut to a
  // block. False (nothing stored) when the ring is full.
  bool push(const int16_t* left, const int16_t* right, size_t n) {
    const size_t head = head_.load(std::memory_order_relaxed);
    const size_t tail = tail_.load(std::memory_order_acquire);
    if (head - tail == blocks_) return false;
    n = std::min(n, block_samples_);
    const size_t slot = head % blocks_;
    int16_t* out = &data_[slot * block_samples_ * 2];
    for (size_t i = 0; i < n; ++i) {
      out[2 * i] = left ? left[i] : int16_t{0};
      out[2 * i + 1] = right ? right[i] : int16_t{0};
    }
    sizes_[slot] = n;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Consumer: the oldest block (interleaved, 2 * samples values) or nullptr when empty;
  // release it with pop() once copied.
  const int16_t* front(size_t& samples) const {
    const size_t tail = tail_.load(std::memory_order_relaxed);
    if (head_.load(std::memory_order_acquire) == tail) return nullptr;
    const size_t slot = tail % blocks_;
    samples = sizes_[slot];
    return &data_[slot * block_samples_ * 2];
  }
  void pop() { tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }
  size_t size() const {
    return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire);
  }

 private:
  const size_t blocks_;
  const size_t block_samples_;
  std::vector<int16_t> data_;
  std::vector<size_t> sizes_;
  alignas(64) std::atomic<size_t> head_{0};  // written by the producer
  alignas(64) std::atomic<size_t> tail_{0};  // written by the consumer
};

}  // namespace atende::recording
