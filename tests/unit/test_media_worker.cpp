// MediaWorker: posted work runs on the worker (including what was posted before stop()),
// legs are ticked with their slot's deadline, and tick_soon only moves legs it knows, never
// from inside a tick. No timing assertions: order and counts only.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "media/media_worker.h"

namespace atende::media {
namespace {

struct CountingLeg : Tickable {
  std::atomic<int> ticks{0};
  MonoTime last{};
  std::function<void()> during_tick;
  void tick(MonoTime now) override {
    last = now;
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

}  // namespace
}  // namespace atende::media
