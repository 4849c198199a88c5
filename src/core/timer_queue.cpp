#include "core/timer_queue.h"

namespace atende {

Timer::~Timer() { cancel(); }

void Timer::cancel() {
  if (queue_) queue_->cancel(*this);
}

TimerQueue::TimerQueue(size_t reserve) { heap_.reserve(reserve); }

TimerQueue::~TimerQueue() {
  for (Timer* t : heap_) t->queue_ = nullptr;
}

bool TimerQueue::earlier(const Timer* a, const Timer* b) {
  if (a->deadline_ != b->deadline_) return a->deadline_ < b->deadline_;
  return a->order_ < b->order_;
}

void TimerQueue::place(size_t i, Timer* t) {
  heap_[i] = t;
  t->index_ = i;
}

void TimerQueue::sift_up(size_t i) {
  Timer* t = heap_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!earlier(t, heap_[parent])) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, t);
}

void TimerQueue::sift_down(size_t i) {
  Timer* t = heap_[i];
  const size_t n = heap_.size();
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && earlier(heap_[child + 1], heap_[child])) ++child;
    if (!earlier(heap_[child], t)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, t);
}

void TimerQueue::remove_at(size_t i) {
  Timer* gone = heap_[i];
  gone->queue_ = nullptr;
  Timer* last = heap_.back();
  heap_.pop_back();
  if (last == gone) return;
  place(i, last);
  // The moved timer may belong above or below its new place.
  sift_up(i);
  sift_down(last->index_);
}

void TimerQueue::arm(Timer& t, MonoTime deadline) {
  if (t.queue_ && t.queue_ != this) t.cancel();  // see the header: one queue per timer
  t.deadline_ = deadline;
  t.order_ = next_order_++;
  if (t.queue_ == this) {
    sift_up(t.index_);
    sift_down(t.index_);
    return;
  }
  t.queue_ = this;
  heap_.push_back(&t);
  t.index_ = heap_.size() - 1;
  sift_up(t.index_);
}

void TimerQueue::cancel(Timer& t) {
  if (t.queue_ != this) return;
  remove_at(t.index_);
}

std::optional<MonoTime> TimerQueue::next_deadline() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.front()->deadline_;
}

size_t TimerQueue::run_due(MonoTime now) {
  const uint64_t armed_before = next_order_;
  size_t fired = 0;
  while (!heap_.empty()) {
    Timer* t = heap_.front();
    if (t->deadline_ > now || t->order_ >= armed_before) break;
    remove_at(0);
    ++fired;
    t->fire_(now);  // may destroy or re-arm `t`: not touched after this
  }
  return fired;
}

}  // namespace atende
