// AudioSocketLeg's frame-to-flow timing (atende_media_frame_to_flow_seconds{leg=
// "audiosocket"}): every frame of the peer's audio handed to the listener is timed from when
// its bytes reached the host; ticks with no audio (silence filled in) are not. A real TCP
// connection on loopback; the worker is not started, the test ticks the leg.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <thread>
#include <vector>

#include "audiosocket/audiosocket_leg.h"
#include "audiosocket/audiosocket_metrics.h"
#include "core/metrics.h"
#include "media/media_worker.h"

namespace atende::audiosocket {
namespace {

struct FrameCounter : LegListener {
  int frames = 0;
  void on_frame(const AudioFrame&, MonoTime) override { ++frames; }
  void on_dtmf(char, MonoTime) override {}
  void on_hangup(std::string_view) override {}
};

class AudioSocketLatency : public ::testing::Test {
 protected:
  void SetUp() override {
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener, 1), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    peer_ = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(::connect(peer_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
    ::close(listener);
    ASSERT_GE(fd, 0);
    AudioSocketLegParams p;
    p.info.id = "latency-test";
    p.info.kind = "audiosocket";
    p.fd = fd;
    leg_ = std::make_shared<AudioSocketLeg>(worker_, p, metrics_);
    leg_->set_listener(&listener_);
    leg_->start();
  }
  void TearDown() override {
    if (leg_) leg_->hangup("test over");
    leg_.reset();
    if (peer_ >= 0) ::close(peer_);
  }

  // `count` 20 ms frames of 8 kHz audio in one write.
  void send_audio(int count) {
    std::vector<uint8_t> bytes;
    for (int i = 0; i < count; ++i) {
      std::array<uint8_t, 320> pcm{};
      pcm.fill(0x01);
      std::array<uint8_t, kHeaderSize + 320> frame{};
      ASSERT_EQ(write_frame(frame, static_cast<uint8_t>(Kind::kAudio), pcm), frame.size());
      bytes.insert(bytes.end(), frame.begin(), frame.end());
    }
    ASSERT_EQ(::send(peer_, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  }

  void tick() {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // loopback delivers
    now_ += std::chrono::milliseconds(20);
    leg_->tick(now_);
  }

  uint64_t timed() const { return metrics_.frame_to_flow.snapshot().count(); }

  MetricsRegistry registry_;
  AudioSocketMetrics metrics_{registry_};
  media::MediaWorker worker_{0};
  FrameCounter listener_;
  std::shared_ptr<AudioSocketLeg> leg_;
  int peer_ = -1;
  MonoTime now_ = MonoClock::now();
};

TEST_F(AudioSocketLatency, EachFrameOfAudioIsTimedSilenceIsNot) {
  tick();  // nothing sent yet: silence, untimed
  EXPECT_EQ(listener_.frames, 1);
  EXPECT_EQ(timed(), 0u);
  for (int i = 0; i < 5; ++i) {
    send_audio(1);
    tick();
  }
  EXPECT_EQ(listener_.frames, 6);
  EXPECT_EQ(timed(), 5u);
  tick();  // the peer paused: silence again
  EXPECT_EQ(timed(), 5u);
  const auto snap = metrics_.frame_to_flow.snapshot();
  EXPECT_GT(snap.sum, 0.0);
  EXPECT_EQ(snap.cumulative.size(), frame_to_flow_buckets().size() + 1);
}

TEST_F(AudioSocketLatency, FramesQueuedBehindOthersKeepTheirOwnReceiveTime) {
  send_audio(4);  // one read brings four frames; one is handed per tick
  for (int i = 0; i < 4; ++i) tick();
  EXPECT_EQ(timed(), 4u);
  // The frames waited 0, 1, 2 and 3 ticks after the read, each tick at least 2 ms after the
  // one before (the sleep): timed from the read, not from when each was handed, they sum
  // to at least 0 + 2 + 4 + 6 ms (a lower bound only: the real clock may run later).
  const auto snap = metrics_.frame_to_flow.snapshot();
  EXPECT_GE(snap.sum, 0.012);
  send_audio(1);
  tick();
  EXPECT_EQ(timed(), 5u);
}

TEST_F(AudioSocketLatency, ABacklogLeftByAStallIsDroppedSoLatencyRecovers) {
  // A stall: eleven frames came while the leg did not tick; from then on the peer sends one
  // per tick, so without a trim ten frames would wait in front of every new one forever.
  send_audio(11);
  for (int i = 0; i < media::BacklogTrim::kWindowTicks; ++i) {
    tick();
    send_audio(1);
  }
  const uint64_t dropped = metrics_.backlog_drops.value();
  EXPECT_EQ(dropped, 11 - 1 - media::BacklogTrim::kKeepFrames);
  // Back to real time: each frame is handed the tick after it came, and nothing more drops.
  const int before = listener_.frames;
  for (int i = 0; i < 3 * media::BacklogTrim::kWindowTicks; ++i) {
    tick();
    send_audio(1);
  }
  EXPECT_EQ(metrics_.backlog_drops.value(), dropped);
  EXPECT_EQ(listener_.frames - before, 3 * media::BacklogTrim::kWindowTicks);
  EXPECT_EQ(metrics_.underruns.value(), 0u);
}

}  // namespace
}  // namespace atende::audiosocket
