// One-shot timers for code that runs on a media worker: the endpointer's end of turn and
// short pause, and later anything else that today checks "has X ms passed?" on every frame.
// A timer fires once at its deadline, on the thread that owns the queue, between leg ticks.
//
// Intrusive and allocation-free: the owner keeps the Timer (a member), the queue keeps only
// a pointer to it in a binary heap reserved up front, so arming, re-arming and cancelling on
// the media path never allocate (the heap grows only past its reserve, once). Re-arming an
// armed timer moves it (one heap sift). Timers with the same deadline fire in arming order.
//
// Threads: one queue per worker; arm/cancel/run_due only on that worker's thread. A Timer
// must not outlive the queue it is armed on, or be armed on two queues: its owner (a flow, an
// agent) lives on one worker for its whole life (a leg that moves to another worker's bridge
// ends its flow first, Session::give_up_leg). Destroying an armed Timer cancels it.
//
// Example:
//   Timer end_of_turn([this](MonoTime now) { on_end_of_turn(now); });
//   queue.arm(end_of_turn, last_speech + Millis(600));
//   ... queue.run_due(MonoClock::now());   // the worker, after the ticks of that moment
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/clock.h"

namespace atende {

class TimerQueue;

class Timer {
 public:
  // `fire` is called with the queue's `now` when the deadline has passed. It may re-arm this
  // timer or any other.
  explicit Timer(std::function<void(MonoTime now)> fire) : fire_(std::move(fire)) {}
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool armed() const { return queue_ != nullptr; }
  MonoTime deadline() const { return deadline_; }
  // Disarms (a no-op when not armed).
  void cancel();

 private:
  friend class TimerQueue;
  std::function<void(MonoTime)> fire_;
  TimerQueue* queue_ = nullptr;
  MonoTime deadline_{};
  uint64_t order_ = 0;  // arming order: ties on deadline fire first-armed first
  size_t index_ = 0;    // position in the queue's heap while armed
};

class TimerQueue {
 public:
  explicit TimerQueue(size_t reserve = 1024);
  ~TimerQueue();  // disarms every timer still armed (they are not fired)
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Fire `t` at `deadline` (already passed: at the next run_due). Moves it if armed here.
  void arm(Timer& t, MonoTime deadline);
  void cancel(Timer& t);

  // The earliest deadline, for the worker's sleep; nullopt when nothing is armed.
  std::optional<MonoTime> next_deadline() const;
  // Fires every timer whose deadline is <= now, earliest first, and returns how many fired.
  // A timer that a handler re-arms for a deadline <= now waits for the next call, so a
  // handler that keeps re-arming cannot hold the worker here.
  size_t run_due(MonoTime now);
  size_t size() const { return heap_.size(); }

 private:
  static bool earlier(const Timer* a, const Timer* b);
  void place(size_t i, Timer* t);
  void sift_up(size_t i);
  void sift_down(size_t i);
  void remove_at(size_t i);

  std::vector<Timer*> heap_;
  uint64_t next_order_ = 0;
};

}  // namespace atende
