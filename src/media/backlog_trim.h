// When a stream leg's inbound queue (audio that came over TCP, waiting for the leg's 20 ms
// tick) holds a standing backlog, and how much of it to drop.
//
// A peer sends in real time, so a leg that takes one frame per tick keeps whatever backlog it
// once got: after a worker stall skipped ticks (or the peer flushed what its own stall held
// back), every frame from then on reaches the flow that much later, for the rest of the call
// (measured: frame-to-flow p50 220 ms at 1,000 AudioSocket sessions, 46 ms for RTP legs in
// the same run). Bursts are not a backlog: frames that arrive together drain within a few
// ticks. So the queue is judged by its *smallest* depth over a window of ticks (after each
// tick took its frame): a queue that never fell below N frames for the whole window held N
// frames nobody needed, and all but kKeepFrames of them are dropped, oldest first.
// Latency is back to normal one window after the stall; jitter up to the window costs
// nothing, since some tick in it saw the queue near empty.
//
// Example (AudioSocketLeg::tick), after the tick took its frame:
//   if (size_t n = trim_.on_tick(queued_frames)) drop_oldest(n);  // counted in a metric
#pragma once
#include <algorithm>
#include <cstddef>
#include <limits>

namespace atende::media {

class BacklogTrim {
 public:
  static constexpr int kWindowTicks = 10;   // 200 ms of ticks
  static constexpr size_t kKeepFrames = 1;  // left queued: room for the next burst's jitter

  // `keep`: frames a standing queue may hold on purpose (a leg's prebuffer).
  explicit BacklogTrim(size_t keep = kKeepFrames) : keep_(keep) {}

  // The frames still queued after this tick took its frame. Returns how many of the oldest
  // to drop now (at the end of a window that never saw the queue near empty), else 0.
  size_t on_tick(size_t queued_frames) {
    least_ = std::min(least_, queued_frames);
    if (++ticks_ < kWindowTicks) return 0;
    const size_t least = least_;
    ticks_ = 0;
    least_ = std::numeric_limits<size_t>::max();
    return least > keep_ ? least - keep_ : 0;
  }

  // The queue was emptied or dropped by other means (a hang-up, the hard latency cap): the
  // window starts again.
  void reset() {
    ticks_ = 0;
    least_ = std::numeric_limits<size_t>::max();
  }

 private:
  size_t keep_;
  int ticks_ = 0;
  size_t least_ = std::numeric_limits<size_t>::max();
};

}  // namespace atende::media
