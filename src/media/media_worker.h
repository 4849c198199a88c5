// One media thread (Envoy-style worker) that owns its legs end to end and drives each of them
// every 20 ms. Legs are spread over 20 one-millisecond slots (16 per slot before the next is
// used) so a thousand calls do not all send in the same instant (that burst would be pacing
// jitter for the last ones). Deadlines advance from the monotonic clock (deadline += period),
// so pacing never drifts, however long a tick takes.
//
// The thread sleeps on a condition variable (a futex on CLOCK_MONOTONIC) until the next
// occupied slot or until work is posted, runs posted work, then the slot's ticks once its time
// has come. No event loop: legs poll their sockets on the tick, so the clock and post() are
// the only wake-up sources (an Asio timer cost two timerfd_settime calls and an epoll_wait per
// slot — measured: more than the slot's own packet work at 1000 calls).
//
// Timers (core/timer_queue.h): the thread also wakes for the earliest armed timer and fires
// what is due after the ticks of that moment, so a leg's frame of time T is heard before a
// timer for T decides on it (the endpointer's end of turn sees the last frame first).
//
// tick_earlier() moves a leg within the period so that it reads its packets soon after they
// arrive (read_phase.h).
//
// tick_soon() moves a leg to the next millisecond slot: when an answer starts on an idle leg
// its first packet leaves within a millisecond instead of waiting up to 20 ms for the leg's
// old phase (the receiver sees one packet early, as with network jitter).
#pragma once
#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/leg.h"
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

class MediaWorker final : public Executor {
 public:
  MediaWorker(int index, Histogram* lateness = nullptr, Histogram* work = nullptr);
  ~MediaWorker() override;
  void start();
  void stop();  // joins; run on another thread. Work still queued is dropped.

  // Any thread. Runs on the worker at its next wake-up (within one period).
  void post(std::function<void()> fn) override;
  // Worker thread only (see Executor::timers).
  TimerQueue* timers() override { return &timers_; }
  // Worker thread only.
  void add(Tickable* t);
  void remove(Tickable* t);
  // Worker thread only, outside the worker's own ticking (false there, and for unknown legs):
  // tick `t` at the next millisecond boundary and every 20 ms from then on.
  bool tick_soon(Tickable* t);
  // Worker thread, from t's own tick only: tick `t` `ms` (1-19) milliseconds earlier from
  // now on (an RTP leg moving its reads to just after its packets arrive, read_phase.h).
  // Its next tick comes 20 - ms after this one. A slot holds at most twice the average
  // (at least kPerSlot), so callers whose packets all arrive at once do not pile into one
  // millisecond: a full slot moves `t` a millisecond less. False when nothing moved.
  bool tick_earlier(Tickable* t, int ms);
  size_t load() const { return load_.load(std::memory_order_relaxed); }
  int index() const { return index_; }
  // Worker thread only, and only within one leg's tick (see media_scratch.h).
  MediaScratch& scratch() { return scratch_; }

 private:
  void run();
  void wait_until(MonoTime deadline);
  void run_posted();
  void on_tick();
  std::vector<Tickable*>* slot_of(const Tickable* t);                 // nullptr when not here
  static void take(std::vector<Tickable*>& slot, const Tickable* t);  // t must be in slot

  int index_;
  Histogram* lateness_;
  Histogram* work_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  std::mutex posted_mu_;
  std::condition_variable wake_;                // post() and stop() wake the sleeping worker
  std::vector<std::function<void()>> posted_;   // guarded by posted_mu_
  std::vector<std::function<void()>> running_;  // worker thread: the batch being run
  std::atomic<bool> has_posted_{false};         // lets a clock wake skip the mutex
  bool ticking_ = false;                        // inside on_tick's loop over a slot

  static constexpr int kSlots = kTickMs;  // one per millisecond of the period
  static constexpr size_t kPerSlot = 16;
  std::array<std::vector<Tickable*>, kSlots> slots_;
  int slot_ = 0;      // the slot the next wake-up is for
  MonoTime cycle_{};  // time of slot 0 in the current period
  std::atomic<size_t> load_{0};
  MediaScratch scratch_;
  TimerQueue timers_;
};

// Leg::move_to for a leg a MediaWorker ticks, called on its current worker (`slot`): off
// that worker now, onto `executor` (false unless it is a MediaWorker) from its next turn,
// where `rejoin` runs and adds the leg back unless it closed meanwhile (it holds the leg).
// A tick or two of silence; packets wait in the socket meanwhile. Not `started`: only the
// worker changes.
bool move_to_worker(Tickable* leg, std::atomic<MediaWorker*>& slot, Executor& executor,
                    bool started, std::function<void(MediaWorker&)> rejoin);

}  // namespace atende::media
