// The gRPC controller's bounded queues and input checks (src/control/): a slow or hostile
// controller loses audio or gets an error, never a longer queue or a crash.
#include <gtest/gtest.h>

#include "control/controller_channel.h"
#include "control/frame_ring.h"
#include "control/pcm_bytes.h"

namespace atende::control {
namespace {

AudioFrame frame_with(int16_t v, int rate = 8000) {
  AudioFrame f = AudioFrame::silence(rate);
  f.pcm[0] = v;
  return f;
}

TEST(FrameRing, DropsTheOldestWhenFullAndCountsIt) {
  FrameRing ring(3);
  for (int16_t i = 1; i <= 5; ++i) ring.push(frame_with(i));
  EXPECT_EQ(ring.size(), 3u);
  EXPECT_EQ(ring.dropped(), 2u);
  AudioFrame out;
  ASSERT_TRUE(ring.pop(out));
  EXPECT_EQ(out.pcm[0], 3);  // 1 and 2 went; the freshest stay
  ASSERT_TRUE(ring.pop(out));
  EXPECT_EQ(out.pcm[0], 4);
  ASSERT_TRUE(ring.pop(out));
  EXPECT_EQ(out.pcm[0], 5);
  EXPECT_FALSE(ring.pop(out));
}

TEST(PcmBytes, FrameRoundTripsLittleEndian) {
  AudioFrame f = AudioFrame::silence(8000);
  f.pcm[0] = -2;
  f.pcm[159] = 0x1234;
  std::string bytes;
  frame_to_pcm(f, bytes);
  ASSERT_EQ(bytes.size(), 320u);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 0xfe);
  EXPECT_EQ(static_cast<uint8_t>(bytes[1]), 0xff);
  EXPECT_EQ(static_cast<uint8_t>(bytes[318]), 0x34);
  AudioFrame back;
  std::string why;
  ASSERT_TRUE(pcm_to_frame(bytes, 8000, back, &why)) << why;
  EXPECT_EQ(back.pcm[0], -2);
  EXPECT_EQ(back.pcm[159], 0x1234);
}

TEST(PcmBytes, RefusesWrongSizesAndRates) {
  AudioFrame out;
  std::string why;
  EXPECT_FALSE(pcm_to_frame(std::string(319, '\0'), 8000, out, &why));
  EXPECT_FALSE(pcm_to_frame(std::string(320, '\0'), 16000, out, &why));  // 10 ms at 16 kHz
  EXPECT_FALSE(pcm_to_frame(std::string(320, '\0'), 44100, out, &why));
  EXPECT_TRUE(pcm_to_frame(std::string(640, '\0'), 16000, out, &why));
  EXPECT_EQ(pcm_to_clip(std::string(3, '\0'), 8000, &why), nullptr);
  EXPECT_EQ(pcm_to_clip("", 8000, &why), nullptr);
  EXPECT_EQ(pcm_to_clip(std::string(2 * 8000 * (kMaxPlaySeconds + 1), '\0'), 8000, &why), nullptr);
  auto clip = pcm_to_clip(std::string(1600, '\0'), 8000, &why);
  ASSERT_NE(clip, nullptr);
  EXPECT_EQ(clip->pcm.size(), 800u);
}

TEST(PcmBytes, DtmfDigits) {
  EXPECT_TRUE(valid_dtmf("0123456789*#ABCD"));
  EXPECT_FALSE(valid_dtmf(""));
  EXPECT_FALSE(valid_dtmf("12e"));
  EXPECT_FALSE(valid_dtmf(std::string(kMaxDtmfDigits + 1, '1')));
}

TEST(ControllerChannel, AudioOnlyFlowsWhileAttached) {
  ControllerChannel ch({.call_id = "c1"}, {});
  ch.push_frame(frame_with(1));  // nobody attached: not kept
  bool closed = false;
  EXPECT_EQ(ch.next_out(std::chrono::milliseconds(0), &closed).kind, Outgoing::Kind::kNone);
  EXPECT_FALSE(closed);
  ASSERT_TRUE(ch.attach(nullptr));
  EXPECT_FALSE(ch.attach(nullptr));  // one stream at a time
  ch.push_frame(frame_with(2));
  auto out = ch.next_out(std::chrono::milliseconds(0), &closed);
  ASSERT_EQ(out.kind, Outgoing::Kind::kAudio);
  EXPECT_EQ(out.frame.pcm[0], 2);
}

TEST(ControllerChannel, ASlowControllerLosesOldAudioAndIsTold) {
  Counter dropped;
  ControllerChannel ch({.call_id = "c1"}, {.dropped_to_controller = &dropped});
  ASSERT_TRUE(ch.attach(nullptr));
  const size_t n = ControllerChannel::kToControllerFrames + 60;
  for (size_t i = 0; i < n; ++i) ch.push_frame(frame_with(static_cast<int16_t>(i)));
  EXPECT_EQ(dropped.value(), 60u);
  bool closed = false;
  auto first = ch.next_out(std::chrono::milliseconds(0), &closed);
  ASSERT_EQ(first.kind, Outgoing::Kind::kEvent);
  EXPECT_EQ(first.event.type, "frames_dropped");
  EXPECT_EQ(first.event.count, 60u);
  auto audio = ch.next_out(std::chrono::milliseconds(0), &closed);
  ASSERT_EQ(audio.kind, Outgoing::Kind::kAudio);
  EXPECT_EQ(audio.frame.pcm[0], 60);  // the oldest kept
}

TEST(ControllerChannel, ControllerAudioIsBoundedToo) {
  Counter dropped;
  ControllerChannel ch({.call_id = "c1"}, {.dropped_from_controller = &dropped});
  ASSERT_TRUE(ch.attach(nullptr));
  for (int i = 0; i < 100; ++i) ch.push_audio(frame_with(static_cast<int16_t>(i)));
  EXPECT_EQ(dropped.value(), 100u - ControllerChannel::kFromControllerFrames);
  AudioFrame f;
  ASSERT_TRUE(ch.pop_frame(f));
  EXPECT_EQ(f.pcm[0], 100 - static_cast<int>(ControllerChannel::kFromControllerFrames));
}

TEST(ControllerChannel, CommandsAreBounded) {
  ControllerChannel ch({.call_id = "c1"}, {});
  for (size_t i = 0; i < ControllerChannel::kMaxCommands; ++i) {
    EXPECT_TRUE(ch.command({.kind = ControllerCommand::Kind::kFlush}));
  }
  EXPECT_FALSE(ch.command({.kind = ControllerCommand::Kind::kFlush}));
  std::vector<ControllerCommand> taken;
  ch.take_commands(taken);
  EXPECT_EQ(taken.size(), ControllerChannel::kMaxCommands);
}

TEST(ControllerChannel, EndSendsTheHangupLastThenCloses) {
  ControllerChannel ch({.call_id = "c1"}, {});
  ASSERT_TRUE(ch.attach(nullptr));
  ch.push_event({.type = "dtmf", .digit = "5"});
  ch.push_frame(frame_with(1));
  ch.end("remote_bye");
  bool closed = false;
  auto a = ch.next_out(std::chrono::milliseconds(0), &closed);
  ASSERT_EQ(a.kind, Outgoing::Kind::kEvent);
  EXPECT_EQ(a.event.type, "dtmf");
  auto b = ch.next_out(std::chrono::milliseconds(0), &closed);
  ASSERT_EQ(b.kind, Outgoing::Kind::kEvent);
  EXPECT_EQ(b.event.type, "hangup");
  EXPECT_EQ(b.event.reason, "remote_bye");
  auto c = ch.next_out(std::chrono::milliseconds(0), &closed);
  EXPECT_EQ(c.kind, Outgoing::Kind::kNone);
  EXPECT_TRUE(closed);
  bool ended = false;
  EXPECT_FALSE(ch.attach(&ended));
  EXPECT_TRUE(ended);
}

TEST(ControllerChannel, DetachIsSeenByTheDriver) {
  ControllerChannel ch({.call_id = "c1"}, {});
  ASSERT_TRUE(ch.attach(nullptr));
  ch.detach("the stream was cancelled or broke");
  EXPECT_FALSE(ch.attached());
  EXPECT_TRUE(ch.ever_attached());
  EXPECT_EQ(ch.detach_reason(), "the stream was cancelled or broke");
  EXPECT_TRUE(ch.attach(nullptr));  // another controller may take it again
}

}  // namespace
}  // namespace atende::control

namespace atende::control {
namespace {

TEST(ControllerChannel, PopWaitsForTheJitterBufferToFill) {
  ControllerChannel ch({.call_id = "c1"}, {});
  ASSERT_TRUE(ch.attach(nullptr));
  ch.push_audio(frame_with(1));
  ch.push_audio(frame_with(2));
  AudioFrame f;
  EXPECT_FALSE(ch.pop_frame(f, 3));  // two queued: not yet
  ch.push_audio(frame_with(3));
  ASSERT_TRUE(ch.pop_frame(f, 3));
  EXPECT_EQ(f.pcm[0], 1);
  ASSERT_TRUE(ch.pop_frame(f, 1));  // playing: one is enough
  EXPECT_EQ(f.pcm[0], 2);
}

}  // namespace
}  // namespace atende::control
