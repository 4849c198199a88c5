// The media-path promise: once a step is running, on_frame() (timeouts, echo) does not
// allocate. Counted with a global operator new that the test switches on around ticks.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "alloc_counter.h"
#include "test_flow_fakes.h"

namespace atende::flow::testing {
namespace {

long allocations_during(Harness& h, int ticks) {
  alloc_counter::allocations = 0;
  alloc_counter::counting = true;
  for (int i = 0; i < ticks; ++i) h.tick();
  alloc_counter::counting = false;
  return alloc_counter::allocations.load();
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
  alloc_counter::allocations = 0;
  alloc_counter::counting = true;
  auto* p = new int(3);
  alloc_counter::counting = false;
  delete p;
  EXPECT_EQ(alloc_counter::allocations.load(), 1);
}

}  // namespace
}  // namespace atende::flow::testing
