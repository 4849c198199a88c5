// The media-path promise for the Realtime engine: once an answer is queued, on_frame (the
// caller's frame into the bridge, one answer frame out to the leg) does not allocate.
#include <gtest/gtest.h>

#include "agent/realtime_engine.h"
#include "alloc_counter.h"
#include "test_flow_fakes.h"

namespace atende::agent {
namespace {

using flow::testing::FakeHost;
using flow::testing::FakeLeg;
using flow::testing::FakePhrases;

TEST(RealtimeEngineAlloc, ListeningAndPlayingDoNotAllocate) {
  FakeLeg leg;
  leg.keep_frames = false;
  FakePhrases phrases;
  FakeHost host{leg, phrases};
  std::shared_ptr<realtime::Bridge> bridge;
  RealtimeEngines e;
  e.open = [&](int rate) { return bridge = std::make_shared<realtime::Bridge>(rate); };
  RealtimeEngine engine(host, AgentSettings{}, true, std::move(e));
  MonoTime now{};
  engine.start(now);

  realtime::EngineEvent created;
  created.event.type = realtime::EventType::kResponseCreated;
  created.event.response_id = "r1";
  ASSERT_TRUE(bridge->push_event(std::move(created)));
  realtime::EngineEvent start;
  start.audio_start = true;
  start.event.item_id = "i1";
  ASSERT_TRUE(bridge->push_event(std::move(start)));
  std::vector<int16_t> pcm(8000 * 6, 1000);  // 6 s at the leg's 8 kHz
  bridge->push_answer("r1", pcm.data(), pcm.size());
  const AudioFrame heard = AudioFrame::silence();
  now += Millis(20);
  engine.on_frame(heard, now);  // takes the events (their strings are freed here)

  alloc_counter::allocations = 0;
  alloc_counter::counting = true;
  for (int i = 0; i < 200; ++i) {
    now += Millis(20);
    engine.on_frame(heard, now);
  }
  alloc_counter::counting = false;
  EXPECT_EQ(alloc_counter::allocations.load(), 0);
  EXPECT_EQ(leg.frames_played, 201);  // it really was playing
}

}  // namespace
}  // namespace atende::agent
