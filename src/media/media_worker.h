// One media thread (Envoy-style worker): an io_context that owns its legs end to end and a
// ticker that drives each of them every 20 ms. Legs are spread over 20 one-millisecond
// slots (16 per slot before the next is used) so a thousand calls do not all send in the
// same instant (that burst would be pacing jitter for the last ones). Deadlines advance from the monotonic clock
// (deadline += period), so pacing never drifts, however long a tick takes.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <atomic>
#include <functional>
#include <thread>
#include <array>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"

namespace atende::media {
constexpr int kTickMs = 20;
}

namespace atende::media {

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
  void stop();  // joins; run on another thread

  boost::asio::io_context& io() { return io_; }
  void post(std::function<void()> fn);
  // Worker thread only.
  void add(Tickable* t);
  void remove(Tickable* t);
  size_t load() const { return load_.load(std::memory_order_relaxed); }
  int index() const { return index_; }

 private:
  void arm();
  void on_tick();

  int index_;
  Histogram* lateness_;
  Histogram* work_;
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  boost::asio::steady_timer timer_;
  std::thread thread_;
  static constexpr int kSlots = kTickMs;  // one per millisecond of the period
  static constexpr size_t kPerSlot = 16;
  std::array<std::vector<Tickable*>, kSlots> slots_;
  int slot_ = 0;       // the slot the timer is armed for
  MonoTime cycle_{};   // time of slot 0 in the current period
  std::atomic<size_t> load_{0};
};

}  // namespace atende::media
