// RtpLeg's receive policy: a tick reads one packet (the steady state, one per 20 ms) and
// reads on only when that packet had waited behind another since the previous tick, so a
// backlog (sender clock drift, a burst after a stall) is drained at the next tick, never
// left to grow; only the caller's packets count as its read waits (read_phase.h). Real sockets on
// loopback; the worker is not started, the test ticks the leg.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <thread>

#include "core/metrics.h"
#include "media/media_worker.h"
#include "media/rtp_leg.h"
#include "rtp/codec.h"
#include "rtp/rtp_packet.h"

namespace atende::media {
namespace {

using boost::asio::ip::udp;

struct FrameCounter : LegListener {
  int frames = 0;
  void on_frame(const AudioFrame&, MonoTime) override { ++frames; }
  void on_dtmf(char, MonoTime) override {}
  void on_hangup(std::string_view) override {}
};

class RtpReceive : public ::testing::Test {
 protected:
  void SetUp() override {
    peer_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(peer_, 0);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(peer_, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    socklen_t len = sizeof any;
    ::getsockname(peer_, reinterpret_cast<sockaddr*>(&any), &len);

    RtpLegParams p;
    p.info.id = "receive-test";
    p.local_address = boost::asio::ip::make_address("127.0.0.1");
    p.codec = rtp::find_codec("PCMU");
    p.payload_type = 0;
    p.remote = udp::endpoint(p.local_address, ntohs(any.sin_port));
    // An even port pair nobody holds: try a few.
    for (int port = 36000; port < 37000 && !leg_; port += 2) {
      p.local_port = port;
      try {
        leg_ = std::make_shared<RtpLeg>(worker_, p, metrics_);
      } catch (const std::exception&) {
      }
    }
    ASSERT_TRUE(leg_);
    leg_->set_listener(&listener_);
    leg_->start();
    to_.sin_family = AF_INET;
    to_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to_.sin_port = htons(static_cast<uint16_t>(leg_->local_port()));
  }
  void TearDown() override {
    if (leg_) leg_->hangup("test over");
    leg_.reset();
    if (peer_ >= 0) ::close(peer_);
  }

  void send_rtp(uint16_t seq, int from = -1) {
    std::array<uint8_t, 160> silence;
    silence.fill(0xff);  // PCMU
    std::array<uint8_t, 12 + 160> pkt;
    const size_t n = rtp::write_rtp(
        pkt, {.payload_type = 0, .sequence = seq, .timestamp = seq * 160u, .ssrc = 7}, silence);
    ASSERT_EQ(n, pkt.size());
    ASSERT_EQ(::sendto(from < 0 ? peer_ : from, pkt.data(), n, 0, reinterpret_cast<sockaddr*>(&to_),
                       sizeof to_),
              static_cast<ssize_t>(n));
  }

  // Ticks the leg the way its worker would, 20 ms apart on its clock. A real pause before
  // each tick lets loopback deliver what was just sent (delivery is synchronous on Linux;
  // the pause only keeps kernel timestamps strictly ordered against our reads).
  void tick() {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    now_ += std::chrono::milliseconds(20);
    leg_->tick(now_);
  }

  MetricsRegistry registry_;
  CoreMetrics metrics_ = register_core_metrics(registry_);
  MediaWorker worker_{0};
  FrameCounter listener_;
  std::shared_ptr<RtpLeg> leg_;
  int peer_ = -1;
  sockaddr_in to_{};
  MonoTime now_ = MonoClock::now();
};

TEST_F(RtpReceive, SteadyStateReadsThePacketOfEachTick) {
  for (uint16_t seq = 100; seq < 110; ++seq) {
    send_rtp(seq);
    tick();
    EXPECT_EQ(leg_->stats().packets_in, seq - 99u) << "seq " << seq;
  }
  EXPECT_EQ(listener_.frames, 10);  // one frame heard per tick, whatever it held
}

TEST_F(RtpReceive, ABacklogIsDrainedAtTheNextTick) {
  tick();  // a first read: from here on, packets sent before a read count as having waited
  for (uint16_t seq = 200; seq < 208; ++seq) send_rtp(seq);
  tick();
  EXPECT_EQ(leg_->stats().packets_in, 1u) << "the first tick of a burst reads one packet";
  tick();
  EXPECT_EQ(leg_->stats().packets_in, 8u) << "the one read had waited: read on to empty";
  send_rtp(208);
  tick();
  EXPECT_EQ(leg_->stats().packets_in, 9u);
}

TEST_F(RtpReceive, AFloodIsBoundedPerTick) {
  tick();
  for (uint16_t seq = 300; seq < 340; ++seq) send_rtp(seq);
  tick();
  tick();
  // 1 + the bounded drain of the second tick; the rest waits in the kernel, not in us.
  EXPECT_LT(leg_->stats().packets_in, 40u);
  for (int i = 0; i < 5; ++i) tick();
  EXPECT_EQ(leg_->stats().packets_in, 40u);
}

TEST_F(RtpReceive, OnlyTheCallersPacketsCountAsReadWaits) {
  const int stranger = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(stranger, 0);
  for (uint16_t seq = 400; seq < 405; ++seq) {
    send_rtp(seq);            // the caller: latched on the first
    send_rtp(seq, stranger);  // someone else, same port
    tick();
    tick();
  }
  EXPECT_EQ(leg_->stats().packets_in, 5u);
  EXPECT_EQ(leg_->stats().strangers, 5u);
  EXPECT_EQ(metrics_.rtp_read_wait_seconds.snapshot().count(), 5u);
  ::close(stranger);
}

TEST_F(RtpReceive, FramesHandedToTheListenerAreTimedFromTheirPacketsReceipt) {
  // The jitter buffer holds 3 packets (60 ms) before it plays: ticks before that hand
  // silence, which came from no packet and is not timed.
  for (uint16_t seq = 500; seq < 510; ++seq) {
    send_rtp(seq);
    tick();
  }
  EXPECT_EQ(listener_.frames, 10);
  const auto snap = metrics_.rtp_frame_to_flow_seconds.snapshot();
  EXPECT_GE(snap.count(), 7u);  // every frame decoded from a packet, after the buffering
  EXPECT_LE(snap.count(), 8u);
  EXPECT_GT(snap.sum, 0.0);  // each frame waited at least for its later ticks
}

}  // namespace
}  // namespace atende::media
