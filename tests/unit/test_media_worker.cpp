// MediaWorker: posted work runs on the worker (including what was posted before stop()),
// legs are ticked with their slot's deadline, tick_soon only moves legs it knows, never
// from inside a tick, and tick_earlier moves a leg from its own tick. No timing assertions:
// order, counts and the deadlines the worker hands out (its schedule, not the wall clock).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "media/media_worker.h"

namespace atende::media {
namespace {

struct CountingLeg : Tickable {
  std::atomic<int> ticks{0};
  MonoTime last{};
  std::vector<MonoTime> deadlines;  // worker thread; read after remove()
  bool keep_deadlines = false;
  std::function<void()> during_tick;
  void tick(MonoTime now) override {
    last = now;
    if (keep_deadlines) deadlines.push_back(now);
    ++ticks;
    if (during_tick) during_tick();
  }
};

// Runs fn on the worker and waits for its result.
template <typename Fn>
auto on_worker(MediaWorker& w, Fn fn) {
  std::promise<decltype(fn())> done;
  auto result = done.get_future();
  w.post([&] { done.set_value(fn()); });
  return result.get();
}

TEST(MediaWorker, PostedWorkRunsOnTheWorkerThread) {
  MediaWorker w(0);
  w.start();
  const auto id = on_worker(w, [] { return std::this_thread::get_id(); });
  EXPECT_NE(id, std::this_thread::get_id());
  w.stop();
}

// A timer armed on the worker fires there, with no leg to tick (the worker wakes for it),
// and never before its deadline.
TEST(MediaWorker, FiresItsTimersOnItsThread) {
  MediaWorker w(0);
  w.start();
  std::promise<std::pair<std::thread::id, bool>> fired;
  auto result = fired.get_future();
  MonoTime deadline{};
  Timer timer([&](MonoTime now) {
    fired.set_value({std::this_thread::get_id(), now >= deadline});
  });
  on_worker(w, [&] {
    deadline = MonoClock::now() + Millis(3);
    w.timers()->arm(timer, deadline);
    return 0;
  });
  const auto [id, not_early] = result.get();
  EXPECT_NE(id, std::this_thread::get_id());
  EXPECT_TRUE(not_early);
  w.stop();
}

TEST(MediaWorker, WorkPostedBeforeStopStillRuns) {
  MediaWorker w(0);
  w.start();
  std::atomic<int> ran{0};
  for (int i = 0; i < 10; ++i) w.post([&] { ++ran; });
  w.stop();
  EXPECT_EQ(ran.load(), 10);
}

TEST(MediaWorker, TicksAddedLegsUntilRemoved) {
  MediaWorker w(0);
  w.start();
  CountingLeg leg;
  on_worker(w, [&] {
    w.add(&leg);
    return 0;
  });
  while (leg.ticks.load() < 3) std::this_thread::sleep_for(Millis(5));
  EXPECT_EQ(w.load(), 1u);
  on_worker(w, [&] {
    w.remove(&leg);
    return 0;
  });
  const int after = leg.ticks.load();
  on_worker(w, [] { return 0; });  // a whole wake-up later
  EXPECT_EQ(leg.ticks.load(), after);
  EXPECT_EQ(w.load(), 0u);
  w.stop();
}

TEST(MediaWorker, TickSoonMovesKnownLegsOnlyAndNeverFromATick) {
  MediaWorker w(0);
  w.start();
  CountingLeg leg, stranger;
  EXPECT_TRUE(on_worker(w, [&] {
    w.add(&leg);
    return w.tick_soon(&leg);
  }));
  EXPECT_FALSE(on_worker(w, [&] { return w.tick_soon(&stranger); }));
  // From inside a tick (e.g. one leg feeding another) the slot being walked must not change.
  std::promise<bool> from_tick;
  std::atomic<bool> asked{false};
  on_worker(w, [&] {  // set on the worker: the tick reads it there
    leg.during_tick = [&] {
      if (!asked.exchange(true)) from_tick.set_value(w.tick_soon(&leg));
    };
    return 0;
  });
  EXPECT_FALSE(from_tick.get_future().get());
  // After a move the leg keeps being ticked.
  const int before = leg.ticks.load();
  on_worker(w, [&] { return w.tick_soon(&leg); });
  while (leg.ticks.load() < before + 3) std::this_thread::sleep_for(Millis(5));
  on_worker(w, [&] {
    w.remove(&leg);
    return 0;
  });
  w.stop();
}

TEST(MediaWorker, TickEarlierMovesALegFromItsOwnTickOnly) {
  MediaWorker w(0);
  w.start();
  CountingLeg mover, neighbour;  // same slot (the first slots fill kPerSlot at a time)
  mover.keep_deadlines = neighbour.keep_deadlines = true;
  std::atomic<int> moved{-1}, refused{0};
  mover.during_tick = [&] {
    // Third tick: 5 ms earlier from now on; later ticks: bad requests change nothing.
    const int n = mover.ticks;
    if (n == 3) moved = w.tick_earlier(&mover, 5);
    if (n == 4) refused += !w.tick_earlier(&mover, 0);
    if (n == 5) refused += !w.tick_earlier(&mover, 20);
    if (n == 6) refused += !w.tick_earlier(&neighbour, 5);  // not its tick
  };
  on_worker(w, [&] {
    w.add(&mover);
    w.add(&neighbour);
    return 0;
  });
  // Outside a tick: refused.
  EXPECT_FALSE(on_worker(w, [&] { return w.tick_earlier(&mover, 5); }));
  while (mover.ticks.load() < 8 || neighbour.ticks.load() < 8)
    std::this_thread::sleep_for(Millis(5));
  on_worker(w, [&] {
    w.remove(&mover);
    w.remove(&neighbour);
    return 0;
  });
  w.stop();
  EXPECT_EQ(moved.load(), 1);
  EXPECT_EQ(refused.load(), 3);
  ASSERT_GE(mover.deadlines.size(), 8u);
  for (size_t i = 1; i < mover.deadlines.size(); ++i) {
    // One period is 5 ms short (the move), every other is exactly 20 ms.
    EXPECT_EQ(mover.deadlines[i] - mover.deadlines[i - 1], Millis(i == 3 ? 15 : 20)) << i;
  }
  // The leg that shared the slot was ticked every period regardless (the move swapped it in).
  for (size_t i = 1; i < neighbour.deadlines.size(); ++i) {
    EXPECT_EQ(neighbour.deadlines[i] - neighbour.deadlines[i - 1], Millis(20)) << i;
  }
}

}  // namespace
}  // namespace atende::media
