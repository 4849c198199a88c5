// One media thread (Envoy-style worker) that owns its legs end to end and drives each of them
// every 20 ms. Legs are spread over 20 one-millisecond slots (16 per slot before the next is
// used) so a thousand calls do not all send in the same instant (that burst would be pacing
// jitter for the last ones). Deadlines advance from the monotonic clock (deadline += period),
// so pacing never drifts, however long a tick takes.
//
// The thread sleeps with clock_nanosleep to the next occupied slot and runs posted work when
// it wakes, before the slot's ticks. No event loop: legs poll their sockets on the tick, so
// the only wake-up source is the clock, and an Asio timer cost two timerfd_settime calls and
// an epoll_wait per slot (measured: more than the slot's own packet work at 1000 calls).
// Posted work therefore waits at most until the next occupied slot — never later than the
// next tick of any leg it concerns, which is when it could take effect anyway.
#pragma once
#include <array>
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "media/media_scratch.h"

namespace atende::media {

constexpr int kTickMs = 20;

// Something ticked every 20 ms on its worker: an RTP leg.
class Tickable {
 public:
  virtual ~Tickable() = default;
  virtual void tick(MonoTime now) = 0;
};

class MediaWorker {
 public:
  MediaWorker(int index, Histogram* lateness = nullptr, Histogram* work = nullptr);
  ~MediaWorker();
  void start();
  void stop();  // joins; run on another thread. Work still queued is dropped.

  // Any thread. Runs on the worker at its next wake-up (within one period).
  void post(std::function<void()> fn);
  // Worker thread only.
  void add(Tickable* t);
  void remove(Tickable* t);
  size_t load() const { return load_.load(std::memory_order_relaxed); }
  int index() const { return index_; }
  // Worker thread only, and only within one leg's tick (see media_scratch.h).
  MediaScratch& scratch() { return scratch_; }

 private:
  void run();
  void run_posted();
  void on_tick();

  int index_;
  Histogram* lateness_;
  Histogram* work_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;   // guarded by posted_mu_
  std::vector<std::function<void()>> running_;  // worker thread: the batch being run
  std::atomic<bool> has_posted_{false};         // lets an idle wake skip the mutex

  static constexpr int kSlots = kTickMs;  // one per millisecond of the period
  static constexpr size_t kPerSlot = 16;
  std::array<std::vector<Tickable*>, kSlots> slots_;
  int slot_ = 0;      // the slot the next wake-up is for
  MonoTime cycle_{};  // time of slot 0 in the current period
  std::atomic<size_t> load_{0};
  MediaScratch scratch_;
};

}  // namespace atende::media
