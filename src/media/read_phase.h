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
// A far end that loops our own packets back (an echo test, SIPp -rtp_echo) sends on our
// clock: each move shifts its packets by as much as our tick, so the wait never shrinks and
// the leg would move every window for the whole call. So a move that did not shorten the
// shortest wait is futile; after kFutileMoves in a row the leg rests for a number of windows
// that doubles each further futile move (up to kMaxRestWindows). Only a useful move resets
// that: a window that merely looks aligned (the worker ran late slots back to back) does not.
//
// Legs use it through PhaseFollower (below): per packet or message read,
// `phase.on_read(wait_ns)`; once per tick, after the reads, `phase.apply(worker, this, moves)`.
#pragma once
#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

namespace atende::media {

class ReadPhase {
 public:
  static constexpr int kWindow = 25;                    // packets: half a second of 20 ms
  static constexpr int64_t kMarginNs = 1'000'000;       // left for arrival jitter
  static constexpr int64_t kWorthMovingNs = 3'000'000;  // below this a move gains too little
  static constexpr int64_t kPeriodNs = 20'000'000;
  static constexpr int kFutileMoves = 3;      // in a row, before resting
  static constexpr int kMaxRestWindows = 64;  // ~32 s between tries on a looping far end
  static constexpr int kSkipAfterMove = 2;    // packets

  // One packet read `wait_ns` after the kernel received it. Returns the whole milliseconds
  // (1-18) to tick earlier at the end of a window that calls for it, else 0.
  int on_read(int64_t wait_ns) {
    // The packets read first after a move arrived before it: their short wait is the move's
    // own doing, not where the sender is (a looping far end would look aligned by them).
    if (skip_ > 0) {
      --skip_;
      return 0;
    }
    if (wait_ns >= 0 && wait_ns < least_ns_) least_ns_ = wait_ns;
    if (++count_ < kWindow) return 0;
    const int64_t least = least_ns_;
    count_ = 0;
    least_ns_ = std::numeric_limits<int64_t>::max();
    if (just_moved_) {  // judge the last move by the window after it
      just_moved_ = false;
      const bool useful = least < kWorthMovingNs || least < moved_at_ns_ - kMarginNs;
      futile_ = useful ? 0 : futile_ + 1;
      if (futile_ >= kFutileMoves) {
        rest_windows_ = std::min(kMaxRestWindows, 1 << std::min(futile_ - kFutileMoves + 1, 6));
      }
    }
    if (least < kWorthMovingNs || least >= kPeriodNs) return 0;
    if (rest_windows_ > 0) {
      --rest_windows_;
      return 0;
    }
    moved_at_ns_ = least;
    just_moved_ = true;
    skip_ = kSkipAfterMove;
    return static_cast<int>((least - kMarginNs) / 1'000'000);
  }

 private:
  int64_t least_ns_ = std::numeric_limits<int64_t>::max();
  int count_ = 0;
  int64_t moved_at_ns_ = 0;  // the shortest wait that made the last move
  bool just_moved_ = false;  // the window before this one moved
  int futile_ = 0;           // moves in a row that shortened nothing
  int rest_windows_ = 0;     // windows left before moving again
  int skip_ = 0;             // packets still to ignore after a move
};

// A leg's side of ReadPhase, the same for every transport (RTP, AudioSocket, ASP): the waits
// of what it reads go in; once per tick, after its reads, a move that is due is made on the
// leg's worker and counted (atende_media_phase_moves_total, <transport>_phase_moves_total).
class PhaseFollower {
 public:
  void on_read(int64_t wait_ns) {
    if (int ms = phase_.on_read(wait_ns)) earlier_ms_ = ms;
  }
  // Worker thread, from `leg`'s own tick (MediaWorker::tick_earlier's rule). `Worker` is a
  // MediaWorker (a template so this header stays free of the worker's).
  template <typename Worker, typename Leg, typename Counter>
  void apply(Worker& worker, Leg* leg, Counter& moves) {
    if (earlier_ms_ > 0 && worker.tick_earlier(leg, std::exchange(earlier_ms_, 0))) moves.inc();
  }

 private:
  ReadPhase phase_;
  int earlier_ms_ = 0;  // set by a window that calls for a move, taken by apply()
};

}  // namespace atende::media
