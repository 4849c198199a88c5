// The media thread's side of every streaming recogniser: push() of each 20 ms frame (and
// finish/cancel) allocates nothing, however long the utterance and whether or not the
// engine keeps up (a full ring drops the oldest audio instead of growing).
#include <gtest/gtest.h>

#include "alloc_counter.h"
#include "speech/stream_core.h"

namespace atende::speech {
namespace {

TEST(StreamAlloc, PushingFramesNeverAllocates) {
  auto core = std::make_shared<StreamCore>(StreamRequest{}, StreamHandlers{}, 8000);  // 1 s
  CoreStream stream(core);
  std::vector<int16_t> frame(160, 100);
  int16_t out[400];
  alloc_counter::allocations = 0;
  alloc_counter::counting = true;
  for (int i = 0; i < 500; ++i) {  // 10 s into a 1 s ring: it overflows, then drains
    stream.push(frame);
    if (i > 250) core->pop(out, 400);
  }
  stream.finish();
  stream.cancel();
  alloc_counter::counting = false;
  EXPECT_EQ(alloc_counter::allocations.load(), 0);
  EXPECT_GT(stream.dropped_samples(), 0u);
}

}  // namespace
}  // namespace atende::speech
