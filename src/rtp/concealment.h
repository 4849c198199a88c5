// Packet loss concealment for decoders without their own (G.711, G.722): a small take on
// ITU-T G.711 Appendix I. On the first lost frame the pitch period of the recent history
// is found by autocorrelation; lost frames repeat that period, full level for 10 ms, then
// fading to silence at 60 ms; the first good frame after a loss is cross-faded in so the
// join does not click. Fixed arrays, no allocation.
//
// (spandsp's plc_t would do this, but Debian 12's copy memcpy()s overlapping ranges in
// its history handling, which AddressSanitizer flags and which is undefined behaviour.)
#pragma once
#include <array>
#include <cstdint>
#include <span>

namespace atende::rtp {

class Concealer {
 public:
  // sample_rate: 8000 or 16000 (anything else is clamped into that range).
  explicit Concealer(int sample_rate);

  // Every decoded frame, in place: records it as history and smooths the join after a loss.
  void on_good(std::span<int16_t> frame);
  // Writes one lost frame of `out.size()` samples.
  void fill(std::span<int16_t> out);

 private:
  static constexpr int kMaxRate = 16000;
  static constexpr int kHistoryLen = kMaxRate * 48 / 1000;  // 48 ms: two longest periods + some

  int find_pitch() const;
  float next_synthetic();

  // The scalars every frame reads come first, on one cache line with the vtable pointer of
  // the decoder that holds us, ahead of the arrays.
  int rate_;
  int history_len_;  // used part of history_, scaled to the rate
  int min_pitch_;
  int max_pitch_;
  int ring_pos_ = 0;      // where the next good sample goes (oldest)
  int lost_samples_ = 0;  // in the current loss run
  int pitch_ = 0;
  int phase_ = 0;  // position inside the repeated period
  // Good frames go into a ring (a plain shift of 48 ms per 20 ms frame was the dearest part
  // of decoding); the first lost frame unrolls it into history_, which the pitch search and
  // the synthesis of that loss run read.
  std::array<int16_t, kHistoryLen> ring_{};
  std::array<int16_t, kHistoryLen> history_{};  // at the start of the loss, newest sample last
};

}  // namespace atende::rtp
