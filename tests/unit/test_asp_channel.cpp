// The fixed queues between an ASP WebSocket and its leg (asp/channel.h): bounded both ways,
// oldest audio dropped when the worker stalls, outbound full says "not reading", no
// allocation once made.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "asp/channel.h"

namespace atende::asp {
namespace {

TEST(AspChannel, AudioInOrderAndWhole20msFramesOnly) {
  Channel ch(8000);
  std::vector<int16_t> pcm(100);
  std::iota(pcm.begin(), pcm.end(), 0);
  EXPECT_EQ(ch.push_audio(pcm.data(), pcm.size()), 0u);
  std::array<int16_t, 160> out{};
  EXPECT_FALSE(ch.pop_audio(out.data(), 160));  // 100 < 160: nothing taken
  ch.push_audio(pcm.data(), pcm.size());
  ASSERT_TRUE(ch.pop_audio(out.data(), 160));
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[99], 99);
  EXPECT_EQ(out[100], 0);
  EXPECT_EQ(out[159], 59);
}

TEST(AspChannel, AFullRingDropsTheOldest) {
  Channel ch(8000);  // 1 s = 8000 samples
  std::vector<int16_t> pcm(6000, 1);
  EXPECT_EQ(ch.push_audio(pcm.data(), pcm.size()), 0u);
  std::vector<int16_t> newer(4000, 2);
  EXPECT_EQ(ch.push_audio(newer.data(), newer.size()), 2000u);
  std::vector<int16_t> out(8000);
  ASSERT_TRUE(ch.pop_audio(out.data(), 8000));
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[3999], 1);
  EXPECT_EQ(out[4000], 2);
  // More than the ring at once: only the newest second is kept.
  std::vector<int16_t> huge(20000, 3);
  EXPECT_EQ(ch.push_audio(huge.data(), huge.size()), 12000u);
}

TEST(AspChannel, EventsAreBounded) {
  Channel ch(8000);
  for (size_t i = 0; i < Channel::kInEvents; ++i) {
    EXPECT_TRUE(ch.push_event({InKind::kDtmf, static_cast<char>('0' + i % 10)}));
  }
  EXPECT_FALSE(ch.push_event({InKind::kBargeIn}));
  InEvent e;
  ASSERT_TRUE(ch.pop_event(e));
  EXPECT_EQ(e.digit, '0');
}

TEST(AspChannel, OutboundSlotsAreBoundedAndKeepOrder) {
  Channel ch(16000);
  for (size_t i = 0; i < Channel::kOutSlots; ++i) {
    EXPECT_TRUE(ch.push_out([&](OutSlot& s) {
      s.kind = OutKind::kAudio;
      s.samples = 320;
      s.pcm[0] = static_cast<int16_t>(i);
    }));
  }
  EXPECT_FALSE(ch.push_out([](OutSlot&) {}));  // the peer is not reading
  OutSlot s;
  ASSERT_TRUE(ch.pop_out(s));
  EXPECT_EQ(s.pcm[0], 0);
  EXPECT_TRUE(ch.push_out([](OutSlot& slot) { slot.kind = OutKind::kBargeIn; }));
}

TEST(AspChannel, EndsAndLocalEnd) {
  Channel ch(8000);
  std::string reason;
  EXPECT_FALSE(ch.ended(&reason));
  ch.set_ended("disconnected");
  ch.set_ended("later");  // the first reason stays
  ASSERT_TRUE(ch.ended(&reason));
  EXPECT_EQ(reason, "disconnected");
  std::string detail;
  SessionStats stats;
  bool abort = true;
  EXPECT_FALSE(ch.local_end(&reason, &detail, &stats, &abort));
  SessionStats given;
  given.responses = 3;
  ch.set_local_end("local_hangup", "flow: goodbye", given, false);
  ASSERT_TRUE(ch.local_end(&reason, &detail, &stats, &abort));
  EXPECT_EQ(reason, "local_hangup");
  EXPECT_EQ(detail, "flow: goodbye");
  EXPECT_EQ(stats.responses, 3);
  EXPECT_FALSE(abort);
}

TEST(AspChannel, WakeIsCoalesced) {
  struct Conn : Wakeable {
    void on_wake() override {}
  };
  auto queue = std::make_shared<WakeQueue>();
  auto a = std::make_shared<Conn>();
  auto b = std::make_shared<Conn>();
  Channel ch_a(8000), ch_b(8000);
  ch_a.attach(queue, a);
  ch_b.attach(queue, b);
  ch_a.wake();
  ch_a.wake();
  ch_b.wake();
  uint64_t n = 0;
  ASSERT_EQ(::read(queue->fd(), &n, sizeof n), static_cast<ssize_t>(sizeof n));
  EXPECT_EQ(n, 1u);  // one eventfd write for the whole batch
  std::vector<std::weak_ptr<Wakeable>> listed;
  queue->take(listed);
  ASSERT_EQ(listed.size(), 2u);  // each session once, in order
  EXPECT_EQ(listed[0].lock(), a);
  EXPECT_EQ(listed[1].lock(), b);
  ch_a.wake();  // still flagged: not listed again until the I/O thread clears it
  queue->take(listed);
  EXPECT_TRUE(listed.empty());
  ch_a.clear_woken();
  ch_a.wake();
  ASSERT_EQ(::read(queue->fd(), &n, sizeof n), static_cast<ssize_t>(sizeof n));
  queue->take(listed);
  EXPECT_EQ(listed.size(), 1u);
}

TEST(AspChannel, FullOutSlotsMakeRoomByDroppingTheOldestAudio) {
  Channel ch(8000);
  ASSERT_TRUE(ch.push_out([](OutSlot& s) { s.kind = OutKind::kResponseStart; }));
  for (size_t i = 1; i < Channel::kOutSlots; ++i) {
    ASSERT_TRUE(ch.push_out([i](OutSlot& s) {
      s.kind = OutKind::kAudio;
      s.samples = static_cast<uint16_t>(i);
    }));
  }
  EXPECT_FALSE(ch.push_out([](OutSlot& s) { s.kind = OutKind::kResponseEnd; }));
  // The I/O thread is behind: the oldest audio (not the response.start before it) goes.
  ASSERT_TRUE(ch.drop_oldest_out_audio());
  ASSERT_TRUE(ch.push_out([](OutSlot& s) { s.kind = OutKind::kResponseEnd; }));
  OutSlot slot;
  ASSERT_TRUE(ch.pop_out(slot));
  EXPECT_EQ(slot.kind, OutKind::kResponseStart);
  ASSERT_TRUE(ch.pop_out(slot));
  EXPECT_EQ(slot.samples, 2);  // audio 1 was dropped
  size_t left = 0;
  while (ch.pop_out(slot)) ++left;
  EXPECT_EQ(slot.kind, OutKind::kResponseEnd);  // order kept, the newest last
  EXPECT_EQ(left, Channel::kOutSlots - 2);
  EXPECT_FALSE(ch.drop_oldest_out_audio());  // nothing queued
}

TEST(AspChannel, AWriteWaitingOnTheSocketIsTimed) {
  Channel ch(8000);
  const MonoTime t0 = MonoClock::now();
  EXPECT_EQ(ch.write_pending_for(t0), MonoClock::duration::zero());  // none waits
  ch.write_started(t0);
  EXPECT_EQ(ch.write_pending_for(t0 + std::chrono::seconds(3)), std::chrono::seconds(3));
  ch.write_done();
  EXPECT_EQ(ch.write_pending_for(t0 + std::chrono::seconds(3)), MonoClock::duration::zero());
}

}  // namespace
}  // namespace atende::asp
