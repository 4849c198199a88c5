// Media workers -> one ASP I/O thread: which sessions have messages waiting to go out.
//
// A worker ticks hundreds of ASP legs per millisecond slot and each queues a frame for its
// WebSocket. One eventfd per session meant one write(2) per frame on the worker and, on the
// I/O thread, one epoll event, one read(2) and one handler per frame. Here the sessions are
// listed instead and the eventfd is written only when the list goes from empty to not empty:
// one wake of the I/O thread serves every session a batch of ticks touched.
//
// Entries are weak: a session that ended meanwhile is skipped. The list's storage is reused
// (the I/O thread swaps it with its own), so steady state allocates nothing.
#pragma once
#include <sys/eventfd.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <vector>

namespace atende::asp {

// What the I/O thread runs for a listed session (its connection).
class Wakeable {
 public:
  virtual ~Wakeable() = default;
  virtual void on_wake() = 0;
};

class WakeQueue {
 public:
  WakeQueue() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) { queued_.reserve(kReserve); }
  ~WakeQueue() {
    if (fd_ >= 0) ::close(fd_);
  }
  WakeQueue(const WakeQueue&) = delete;
  WakeQueue& operator=(const WakeQueue&) = delete;

  // Readable when entries are waiting (the I/O thread polls it).
  int fd() const { return fd_; }

  // Any thread: `who` has something to send. Callers list a session once per wake (the
  // channel's own flag), so the list holds at most one entry per session.
  void push(const std::weak_ptr<Wakeable>& who) {
    bool was_empty;
    {
      std::lock_guard lock(mu_);
      was_empty = queued_.empty();
      queued_.push_back(who);
    }
    if (was_empty) {
      const uint64_t one = 1;
      [[maybe_unused]] auto r = ::write(fd_, &one, sizeof one);
    }
  }

  // I/O thread: the listed sessions into `out` (its old entries are dropped), in order.
  void take(std::vector<std::weak_ptr<Wakeable>>& out) {
    out.clear();
    std::lock_guard lock(mu_);
    out.swap(queued_);
  }

 private:
  static constexpr size_t kReserve = 1024;
  int fd_ = -1;
  std::mutex mu_;
  std::vector<std::weak_ptr<Wakeable>> queued_;
};

}  // namespace atende::asp
