#include "media/media_worker.h"

#include <boost/asio/post.hpp>
#include <algorithm>

#include <spdlog/spdlog.h>

namespace atende::media {

MediaWorker::MediaWorker(int index, Histogram* lateness, Histogram* work)
    : index_(index), lateness_(lateness), work_(work), guard_(boost::asio::make_work_guard(io_)), timer_(io_) {
  for (auto& s : slots_) s.reserve(256);
}

MediaWorker::~MediaWorker() { stop(); }

void MediaWorker::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), ("media" + std::to_string(index_)).c_str());
    cycle_ = MonoClock::now() + Millis(1);
    slot_ = 0;
    arm();
    io_.run();
  });
}

void MediaWorker::stop() {
  if (!thread_.joinable()) return;
  boost::asio::post(io_, [this] {
    timer_.cancel();
    guard_.reset();
    io_.stop();
  });
  thread_.join();
}

void MediaWorker::post(std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); }

void MediaWorker::add(Tickable* t) {
  // Fill slots kPerSlot legs at a time: few calls then share a couple of wake-ups per
  // period (cheap), many calls spread over every millisecond (smooth sending).
  auto target = std::find_if(slots_.begin(), slots_.end(),
                             [](const auto& s) { return s.size() < kPerSlot; });
  if (target == slots_.end()) {
    target = std::min_element(slots_.begin(), slots_.end(),
                              [](const auto& a, const auto& b) { return a.size() < b.size(); });
  }
  target->push_back(t);
  load_.fetch_add(1, std::memory_order_relaxed);
}

void MediaWorker::remove(Tickable* t) {
  for (auto& slot : slots_) {
    auto it = std::find(slot.begin(), slot.end(), t);
    if (it == slot.end()) continue;
    *it = slot.back();  // order does not matter; O(1) removal
    slot.pop_back();
    load_.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
}

void MediaWorker::arm() {
  timer_.expires_at(cycle_ + Millis(slot_));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_tick();
  });
}

void MediaWorker::on_tick() {
  const MonoTime deadline = cycle_ + Millis(slot_);
  const MonoTime now = MonoClock::now();
  if (now - deadline > Millis(10 * kTickMs)) {
    // Far behind (suspended, overloaded): skip the missed periods rather than burst them.
    cycle_ += (now - deadline) / Millis(kTickMs) * Millis(kTickMs);
  }
  if (lateness_ && !slots_[slot_].empty()) {
    lateness_->observe(std::chrono::duration<double>(now - deadline).count());
  }
  auto& slot = slots_[slot_];
  // Index loop: a tick may remove its own leg (hang-up), which swaps in the last one.
  for (size_t i = 0; i < slot.size();) {
    Tickable* t = slot[i];
    t->tick(deadline);
    if (i < slot.size() && slot[i] == t) ++i;
  }
  if (work_ && !slot.empty()) {
    work_->observe(std::chrono::duration<double>(MonoClock::now() - now).count());
  }
  // Sleep through empty slots; with no legs at all this wakes once per period.
  for (int step = 0; step < kSlots; ++step) {
    if (++slot_ == kSlots) {
      slot_ = 0;
      cycle_ += Millis(kTickMs);
    }
    if (!slots_[slot_].empty() || slot_ == 0) break;
  }
  arm();
}

}  // namespace atende::media
