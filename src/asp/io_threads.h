// The ASP front's I/O threads: each runs its own io_context, owns the WebSockets placed on
// it for their whole life, and wakes once per batch of the legs' outbound messages
// (wake_queue.h). New connections go to the thread with the fewest, so a thread's sessions
// never need a lock against another thread.
//
// `asp_io_threads` sets how many (docs/asp.md).
#pragma once
// clang-format off
#include <utility>  // first: Boost 1.74's asio/awaitable.hpp uses std::exchange unincluded
// clang-format on
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "asp/wake_queue.h"

namespace atende::asp {

// `asp_io_threads`: as configured, or for 0 one per core, at most 4. At 1,000 sessions the
// WebSocket work is twice a media worker's, and one thread ran a frame behind
// (bench/results/transport_load_asp_io_threads.md): it must be able to use every core.
int io_threads_for(int configured);

class IoThread {
 public:
  explicit IoThread(int index);
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  boost::asio::io_context& context() { return ioc_; }
  // Shared: a leg that outlives the front (a stalled worker at shutdown) may still wake.
  const std::shared_ptr<WakeQueue>& wakes() { return wakes_; }
  int index() const { return index_; }
  // Connections placed here and not yet gone (the placement's measure).
  std::atomic<size_t>& connections() { return connections_; }

  void start();
  void stop();  // after the work guard is dropped; joins

 private:
  void wait_wakes();

  int index_;
  // Declared before the io_context: connections its pending handlers still hold die with
  // it, and count themselves out here.
  std::atomic<size_t> connections_{0};
  std::shared_ptr<WakeQueue> wakes_ = std::make_shared<WakeQueue>();
  std::vector<std::weak_ptr<Wakeable>> batch_;  // the I/O thread's half of the swap
  boost::asio::io_context ioc_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  boost::asio::posix::stream_descriptor wake_fd_{ioc_};
  uint64_t wake_value_ = 0;
  std::thread thread_;
};

class IoThreads {
 public:
  // `count` < 1 is taken as 1.
  explicit IoThreads(int count);
  ~IoThreads();

  void start();
  void stop();
  // The thread for a new connection: the one with the fewest, counted from now on (whoever
  // does not make the connection after all gives it back: connections().fetch_sub).
  IoThread& pick();
  size_t size() const { return threads_.size(); }
  IoThread& at(size_t i) { return *threads_[i]; }

 private:
  std::vector<std::unique_ptr<IoThread>> threads_;
  bool started_ = false;
};

}  // namespace atende::asp
