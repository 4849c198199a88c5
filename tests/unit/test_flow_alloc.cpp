// The media-path promise: once a step is running, on_frame() (timeouts, echo) does not
// allocate. Counted with a global operator new that the test switches on around ticks.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "test_flow_fakes.h"

// This file replaces the global operator new/delete with malloc/free, which GCC's
// mismatch check cannot see through.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace atende::flow::testing {
namespace {

long allocations_during(Harness& h, int ticks) {
  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < ticks; ++i) h.tick();
  g_counting = false;
  return g_allocations.load();
}

TEST(FlowAlloc, EchoSteadyStateDoesNotAllocate) {
  Harness h;
  h.leg.keep_frames = false;
  ASSERT_TRUE(h.start(shipped_flows(), "echo"));
  h.play_out();
  int before = h.leg.frames_played;
  EXPECT_EQ(allocations_during(h, 500), 0);
  EXPECT_EQ(h.leg.frames_played, before + 500);  // it really was echoing
}

TEST(FlowAlloc, WaitingForMenuDigitDoesNotAllocate) {
  Harness h;
  ASSERT_TRUE(h.start(shipped_flows(), "ivr"));
  h.play_out();
  EXPECT_EQ(allocations_during(h, 200), 0);  // 4 s of the 5 s timeout
  EXPECT_EQ(h.leg.clips.size(), 1u);
}

TEST(FlowAlloc, CountingWorks) {
  g_allocations = 0;
  g_counting = true;
  auto* p = new int(3);
  g_counting = false;
  delete p;
  EXPECT_EQ(g_allocations.load(), 1);
}

}  // namespace
}  // namespace atende::flow::testing
