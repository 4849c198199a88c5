#include "asp/io_threads.h"

#include <fcntl.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <string>

namespace atende::asp {

namespace net = boost::asio;

int io_threads_for(int configured) {
  if (configured > 0) return configured;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(cores, 1, 4);
}

IoThread::IoThread(int index) : index_(index) { batch_.reserve(1024); }

void IoThread::start() {
  work_.emplace(net::make_work_guard(ioc_));
  boost::system::error_code ec;
  wake_fd_.assign(::fcntl(wakes_->fd(), F_DUPFD_CLOEXEC, 0), ec);
  if (ec) spdlog::error("asp: I/O thread {}: cannot watch its wake fd: {}", index_, ec.message());
  wait_wakes();
  thread_ = std::thread([this] {
    // Named as the media workers are ("media0"): perf and top tell the threads apart.
    const std::string name = "asp-io" + std::to_string(index_);
    ::pthread_setname_np(::pthread_self(), name.c_str());
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("asp: unexpected exception on I/O thread {}: {}", index_, e.what());
      }
    }
  });
}

void IoThread::stop() {
  if (!thread_.joinable()) return;
  net::post(ioc_, [this] {
    boost::system::error_code ignored;
    wake_fd_.close(ignored);
  });
  work_.reset();
  ioc_.stop();
  thread_.join();
}

// One eventfd read per batch, then every listed session writes what it has.
void IoThread::wait_wakes() {
  wake_fd_.async_read_some(net::buffer(&wake_value_, sizeof wake_value_),
                           [this](boost::system::error_code ec, size_t) {
                             if (ec) return;
                             wakes_->take(batch_);
                             for (auto& who : batch_) {
                               if (auto w = who.lock()) w->on_wake();
                             }
                             batch_.clear();
                             wait_wakes();
                           });
}

IoThreads::IoThreads(int count) {
  for (int i = 0; i < std::max(count, 1); ++i) threads_.push_back(std::make_unique<IoThread>(i));
}

IoThreads::~IoThreads() { stop(); }

void IoThreads::start() {
  if (started_) return;
  started_ = true;
  for (auto& t : threads_) t->start();
}

void IoThreads::stop() {
  for (auto& t : threads_) t->stop();
}

IoThread& IoThreads::pick() {
  IoThread* best = threads_.front().get();
  for (auto& t : threads_) {
    if (t->connections().load(std::memory_order_relaxed) <
        best->connections().load(std::memory_order_relaxed)) {
      best = t.get();
    }
  }
  // Counted now, not when the connection is made on its thread: a burst of accepts must not
  // all see the same counts. The connection gives it back (AspFront::Conn::~Conn).
  best->connections().fetch_add(1, std::memory_order_relaxed);
  return *best;
}

}  // namespace atende::asp
