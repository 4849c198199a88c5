// TimerQueue: fires in deadline order (ties in arming order), re-arming moves a timer,
// cancelling and destroying disarm it, a handler may re-arm, and arming never allocates
// once the heap is reserved. A fake clock: run_due is given the time.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "alloc_counter.h"
#include "core/timer_queue.h"

namespace atende {
namespace {

MonoTime at(int ms) { return MonoTime{} + Millis(ms); }

struct Recorder {
  std::vector<int> fired;
  std::function<void(MonoTime)> mark(int id) {
    return [this, id](MonoTime) { fired.push_back(id); };
  }
};

TEST(TimerQueue, FiresDueTimersInDeadlineOrderThenArmingOrder) {
  TimerQueue q;
  Recorder r;
  Timer a(r.mark(1)), b(r.mark(2)), c(r.mark(3)), d(r.mark(4));
  q.arm(a, at(30));
  q.arm(b, at(10));
  q.arm(c, at(20));
  q.arm(d, at(10));
  EXPECT_EQ(q.next_deadline(), at(10));
  EXPECT_EQ(q.run_due(at(5)), 0u);
  EXPECT_EQ(q.run_due(at(20)), 3u);
  EXPECT_EQ(r.fired, (std::vector<int>{2, 4, 3}));
  EXPECT_TRUE(a.armed());
  EXPECT_FALSE(b.armed());
  EXPECT_EQ(q.run_due(at(100)), 1u);
  EXPECT_FALSE(q.next_deadline());
}

TEST(TimerQueue, RearmingMovesATimerAndCancelDisarms) {
  TimerQueue q;
  Recorder r;
  Timer a(r.mark(1)), b(r.mark(2));
  q.arm(a, at(10));
  q.arm(b, at(20));
  q.arm(a, at(30));  // later now
  EXPECT_EQ(q.size(), 2u);
  q.run_due(at(25));
  EXPECT_EQ(r.fired, (std::vector<int>{2}));
  q.cancel(a);
  EXPECT_FALSE(a.armed());
  EXPECT_EQ(q.run_due(at(100)), 0u);
}

TEST(TimerQueue, DestroyingAnArmedTimerCancelsIt) {
  TimerQueue q;
  Recorder r;
  Timer keep(r.mark(1));
  q.arm(keep, at(50));
  {
    Timer gone(r.mark(2));
    q.arm(gone, at(10));
  }
  EXPECT_EQ(q.size(), 1u);
  q.run_due(at(100));
  EXPECT_EQ(r.fired, (std::vector<int>{1}));
}

TEST(TimerQueue, AHandlerThatRearmsForNowWaitsForTheNextRun) {
  TimerQueue q;
  int count = 0;
  std::unique_ptr<Timer> t;
  t = std::make_unique<Timer>([&](MonoTime now) {
    ++count;
    q.arm(*t, now);  // due again at once: must not loop here
  });
  q.arm(*t, at(10));
  EXPECT_EQ(q.run_due(at(10)), 1u);
  EXPECT_EQ(q.run_due(at(10)), 1u);
  EXPECT_EQ(count, 2);
}

TEST(TimerQueue, ManyTimersFireSortedAfterRandomRearms) {
  TimerQueue q;
  std::vector<MonoTime> seen;
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < 200; ++i) {
    timers.push_back(std::make_unique<Timer>([&](MonoTime) {}));
  }
  for (int i = 0; i < 200; ++i) q.arm(*timers[size_t(i)], at((i * 7919) % 1000));
  for (int i = 0; i < 200; i += 3) q.arm(*timers[size_t(i)], at((i * 104729) % 1000));
  for (int i = 1; i < 200; i += 5) q.cancel(*timers[size_t(i)]);
  while (auto d = q.next_deadline()) {
    seen.push_back(*d);
    q.run_due(*d);
  }
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  for (auto& t : timers) EXPECT_FALSE(t->armed());
}

TEST(TimerQueue, ArmingAndCancellingDoNotAllocate) {
  TimerQueue q(64);
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < 64; ++i) timers.push_back(std::make_unique<Timer>([](MonoTime) {}));
  alloc_counter::allocations = 0;
  alloc_counter::counting = true;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 64; ++i) q.arm(*timers[size_t(i)], at(round * 100 + (i * 37) % 64));
    for (int i = 0; i < 64; i += 2) q.cancel(*timers[size_t(i)]);
    q.run_due(at(round * 100 + 1000));
  }
  alloc_counter::counting = false;
  EXPECT_EQ(alloc_counter::allocations.load(), 0);
}

}  // namespace
}  // namespace atende
