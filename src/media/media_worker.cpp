#include "media/media_worker.h"

#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <string>

namespace atende::media {

MediaWorker::MediaWorker(int index, Histogram* lateness, Histogram* work)
    : index_(index), lateness_(lateness), work_(work) {
  for (auto& s : slots_) s.reserve(256);
  posted_.reserve(64);
  running_.reserve(64);
}

MediaWorker::~MediaWorker() { stop(); }

void MediaWorker::start() {
  thread_ = std::thread([this] { run(); });
}

void MediaWorker::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(posted_mu_);
    stopping_.store(true, std::memory_order_release);
  }
  wake_.notify_one();
  thread_.join();
}

void MediaWorker::post(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mu_);
    posted_.push_back(std::move(fn));
    has_posted_.store(true, std::memory_order_release);
  }
  wake_.notify_one();
}

void MediaWorker::wait_until(MonoTime deadline) {
  if (has_posted_.load(std::memory_order_acquire)) return;
  std::unique_lock lock(posted_mu_);
  // steady_clock: glibc waits with pthread_cond_clockwait on CLOCK_MONOTONIC.
  wake_.wait_until(lock, deadline, [this] {
    return has_posted_.load(std::memory_order_relaxed) || stopping_.load(std::memory_order_relaxed);
  });
}

void MediaWorker::run() {
  pthread_setname_np(pthread_self(), ("media" + std::to_string(index_)).c_str());
  // The default 50 us timer slack would be added to every wake-up, i.e. to pacing jitter.
  prctl(PR_SET_TIMERSLACK, 1000UL);  // 1 us
  cycle_ = MonoClock::now() + Millis(1);
  slot_ = 0;
  while (!stopping_.load(std::memory_order_acquire)) {
    MonoTime wake = cycle_ + Millis(slot_);
    if (auto timer = timers_.next_deadline(); timer && *timer < wake) wake = *timer;
    wait_until(wake);
    run_posted();  // may move slot_ earlier (tick_soon)
    if (MonoClock::now() >= cycle_ + Millis(slot_)) on_tick();
    timers_.run_due(MonoClock::now());
  }
  // What was posted before stop() still runs (end_all's hang-ups, in order); what those jobs
  // post is dropped, destroyed here on the thread that owns what it captured.
  run_posted();
  std::lock_guard lock(posted_mu_);
  posted_.clear();
}

void MediaWorker::run_posted() {
  if (!has_posted_.load(std::memory_order_acquire)) return;
  {
    std::lock_guard lock(posted_mu_);
    running_.swap(posted_);
    has_posted_.store(false, std::memory_order_relaxed);
  }
  // Outside the lock: a job may post more (it runs at the next wake-up).
  for (auto& fn : running_) fn();
  running_.clear();
}

void MediaWorker::add(Tickable* t) {
  // Fill slots kPerSlot legs at a time: few calls then share a couple of wake-ups per
  // period (cheap), many calls spread over every millisecond (smooth sending).
  auto target =
      std::find_if(slots_.begin(), slots_.end(), [](const auto& s) { return s.size() < kPerSlot; });
  if (target == slots_.end()) {
    target = std::min_element(slots_.begin(), slots_.end(),
                              [](const auto& a, const auto& b) { return a.size() < b.size(); });
  }
  target->push_back(t);
  load_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<Tickable*>* MediaWorker::slot_of(const Tickable* t) {
  for (auto& slot : slots_) {
    if (std::find(slot.begin(), slot.end(), t) != slot.end()) return &slot;
  }
  return nullptr;
}

void MediaWorker::take(std::vector<Tickable*>& slot, const Tickable* t) {
  auto it = std::find(slot.begin(), slot.end(), t);
  *it = slot.back();  // order does not matter; O(1) removal
  slot.pop_back();
}

void MediaWorker::remove(Tickable* t) {
  auto* slot = slot_of(t);
  if (!slot) return;
  take(*slot, t);
  load_.fetch_sub(1, std::memory_order_relaxed);
}

bool MediaWorker::tick_soon(Tickable* t) {
  if (ticking_) return false;
  // The next millisecond boundary on the slot grid, as (cycle, slot).
  const MonoTime now = MonoClock::now();
  const auto ahead = std::chrono::ceil<Millis>(now - cycle_).count();  // may be < 0 or >= 20
  MonoTime cycle =
      cycle_ + Millis(kTickMs) * (ahead >= 0 ? ahead / kTickMs : (ahead - kTickMs + 1) / kTickMs);
  int slot = static_cast<int>(ahead - (cycle - cycle_) / Millis(1));
  // Sooner than the wake already planned: that slot becomes the next wake (the slots between
  // are empty, or the worker would wake for them first). Otherwise ride the planned wake.
  const bool sooner = cycle + Millis(slot) < cycle_ + Millis(slot_);
  if (!sooner) {
    cycle = cycle_;
    slot = slot_;
  }
  auto* from = slot_of(t);
  if (!from) return false;
  if (from != &slots_[slot]) {
    take(*from, t);
    slots_[slot].push_back(t);
  }
  if (sooner) {
    cycle_ = cycle;
    slot_ = slot;
  }
  return true;
}

bool MediaWorker::tick_earlier(Tickable* t, int ms) {
  if (!ticking_ || ms <= 0 || ms >= kSlots) return false;
  auto& from = slots_[slot_];
  if (std::find(from.begin(), from.end(), t) == from.end()) return false;
  const size_t cap = std::max(kPerSlot, 2 * load() / kSlots + 1);
  for (int earlier = ms; earlier > 0; --earlier) {
    auto& to = slots_[(slot_ - earlier + kSlots) % kSlots];
    if (to.size() >= cap) continue;
    // on_tick's loop over `from` sees the leg gone (swap with the last) and goes on; a
    // slot later in this period (earlier wrapped) is visited by this same on_tick round.
    take(from, t);
    to.push_back(t);
    return true;
  }
  return false;
}

void MediaWorker::on_tick() {
  const MonoTime deadline = cycle_ + Millis(slot_);
  const MonoTime now = MonoClock::now();
  if (now - deadline > Millis(10 * kTickMs)) {
    // Far behind (suspended, overloaded): skip the missed periods rather than burst them.
    cycle_ += (now - deadline) / Millis(kTickMs) * Millis(kTickMs);
  }
  auto& slot = slots_[slot_];
  if (lateness_ && !slot.empty()) {
    lateness_->observe(std::chrono::duration<double>(now - deadline).count());
  }
  // Index loop: a tick may remove its own leg (hang-up), which swaps in the last one.
  ticking_ = true;
  for (size_t i = 0; i < slot.size();) {
    Tickable* t = slot[i];
    if (i + 1 < slot.size()) __builtin_prefetch(slot[i + 1]);  // legs are cold by now
    t->tick(deadline);
    if (i < slot.size() && slot[i] == t) ++i;
  }
  ticking_ = false;
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
}

bool move_to_worker(Tickable* leg, std::atomic<MediaWorker*>& slot, Executor& executor,
                    bool started, std::function<void(MediaWorker&)> rejoin) {
  auto* to = dynamic_cast<MediaWorker*>(&executor);
  if (!to) return false;
  MediaWorker* from = slot.load(std::memory_order_acquire);
  if (to == from) return true;
  if (started) from->remove(leg);
  slot.store(to, std::memory_order_release);
  if (started) to->post([to, rejoin = std::move(rejoin)] { rejoin(*to); });
  return true;
}

}  // namespace atende::media
