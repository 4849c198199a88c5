#include <gtest/gtest.h>

#include <set>

#include "media/playout.h"
#include "media/port_pool.h"

namespace atende::media {
namespace {

ClipPtr ramp_clip(size_t samples, int16_t start) {
  auto c = std::make_shared<Clip>();
  for (size_t i = 0; i < samples; ++i) c->pcm.push_back(static_cast<int16_t>(start + i));
  return c;
}

TEST(Playout, ClipsPlayInOrderAndPadTheLastFrame) {
  Playout p(8000);
  p.push_clip(ramp_clip(200, 0));  // 1.25 frames
  p.push_clip(ramp_clip(160, 1000));
  AudioFrame f;
  ASSERT_TRUE(p.next(f));
  EXPECT_EQ(f.pcm[0], 0);
  EXPECT_EQ(f.pcm[159], 159);
  ASSERT_TRUE(p.next(f));
  EXPECT_EQ(f.pcm[0], 160);
  EXPECT_EQ(f.pcm[39], 199);
  EXPECT_EQ(f.pcm[40], 0);  // padded, the next clip starts on its own frame
  ASSERT_TRUE(p.next(f));
  EXPECT_EQ(f.pcm[0], 1000);
  EXPECT_TRUE(p.empty());
  EXPECT_FALSE(p.next(f));
}

TEST(Playout, LiveFramesGoFirstAndOverwriteOldestWhenFull) {
  Playout p(8000);
  p.push_clip(ramp_clip(160, 500));
  for (int i = 0; i < static_cast<int>(Playout::kMaxLiveFrames) + 3; ++i) {
    AudioFrame f = AudioFrame::silence(8000);
    f.pcm[0] = static_cast<int16_t>(i);
    p.push_frame(f);
  }
  EXPECT_EQ(p.dropped_frames(), 3u);
  AudioFrame out;
  ASSERT_TRUE(p.next(out));
  EXPECT_EQ(out.pcm[0], 3);  // the three oldest were dropped
  for (size_t i = 1; i < Playout::kMaxLiveFrames; ++i) ASSERT_TRUE(p.next(out));
  ASSERT_TRUE(p.next(out));
  EXPECT_EQ(out.pcm[0], 500);  // then the clip
}

TEST(Playout, ClearDropsEverythingAndQueueIsBounded) {
  Playout p(8000);
  for (size_t i = 0; i < Playout::kMaxClips; ++i) EXPECT_TRUE(p.push_clip(ramp_clip(10, 0)));
  EXPECT_FALSE(p.push_clip(ramp_clip(10, 0)));
  EXPECT_EQ(p.dropped_clips(), 1u);
  p.clear();
  EXPECT_TRUE(p.empty());
  AudioFrame f;
  EXPECT_FALSE(p.next(f));
}

TEST(PortPool, EvenPortsFifoAndExhaustion) {
  PortPool pool(10001, 10010);  // even ports with room for +1: 10002 10004 10006 10008
  std::set<int> got;
  while (auto p = pool.acquire()) {
    EXPECT_EQ(*p % 2, 0);
    EXPECT_LE(*p + 1, 10010);
    got.insert(*p);
  }
  EXPECT_EQ(got, (std::set<int>{10002, 10004, 10006, 10008}));
  pool.release(10004);
  pool.release(10002);
  EXPECT_EQ(pool.acquire(), 10004);  // released first, reused first
  EXPECT_EQ(pool.acquire(), 10002);
  EXPECT_FALSE(pool.acquire());
}

}  // namespace
}  // namespace atende::media
