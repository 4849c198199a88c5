// Where in the 20 ms period a leg should be ticked so that it reads each RTP packet soon
// after it arrives. A leg's slot is picked when it is added (media_worker.h), knowing
// nothing of the caller's phase, so a packet waits in the socket 0-20 ms (10 on average)
// before the tick reads it; that wait is added to what the caller hears of us and to every
// turn the agent takes (the jitter buffer plays a frame a fixed number of ticks after it
// was read). The kernel's receive timestamps say how long each packet waited.
//
// ReadPhase watches those waits over a window of packets and, when even the shortest wait
// was long, says how many whole milliseconds earlier the leg should be ticked, keeping a
// margin for arrival jitter. The shortest wait of a window is what the earliest packet
// leaves over, so a move never makes a packet miss the tick it used to make. A sender whose
// clock drifts is followed: its waits grow (move earlier) or wrap to ~20 ms (move earlier
// by most of a period, i.e. a little later). Waits of a whole period or more are a backlog,
// which drain_rtp reads on through, not a phase: ignored.
//
// Example (RtpLeg): per packet read, `if (int ms = phase.on_read(wait_ns)) shift = ms;`,
// then after the read `worker.tick_earlier(this, shift)`.
#pragma once
#include <cstdint>
#include <limits>

namespace atende::media {

class ReadPhase {
 public:
  static constexpr int kWindow = 25;                    // packets: half a second of 20 ms
  static constexpr int64_t kMarginNs = 1'000'000;       // left for arrival jitter
  static constexpr int64_t kWorthMovingNs = 3'000'000;  // below this a move gains too little
  static constexpr int64_t kPeriodNs = 20'000'000;

  // One packet read `wait_ns` after the kernel received it. Returns the whole milliseconds
  // (1-18) to tick earlier at the end of a window that calls for it, else 0.
  int on_read(int64_t wait_ns) {
    if (wait_ns >= 0 && wait_ns < least_ns_) least_ns_ = wait_ns;
    if (++count_ < kWindow) return 0;
    const int64_t least = least_ns_;
    count_ = 0;
    least_ns_ = std::numeric_limits<int64_t>::max();
    if (least < kWorthMovingNs || least >= kPeriodNs) return 0;
    return static_cast<int>((least - kMarginNs) / 1'000'000);
  }

 private:
  int64_t least_ns_ = std::numeric_limits<int64_t>::max();
  int count_ = 0;
};

}  // namespace atende::media
