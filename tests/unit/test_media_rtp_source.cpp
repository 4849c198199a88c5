// The latching rule (media/rtp_source.h): whose RTP a call takes, before and after a latch
// and a re-INVITE, in strict and nat mode.
#include <gtest/gtest.h>

#include "media/rtp_source.h"

namespace atende::media {
namespace {

using boost::asio::ip::make_address;
using boost::asio::ip::udp;
using V = RtpSource::Verdict;

udp::endpoint ep(const char* ip, unsigned short port) { return {make_address(ip), port}; }

const MonoTime t0 = MonoTime{} + std::chrono::hours(1);
MonoTime at(int ms) { return t0 + Millis(ms); }

TEST(RtpSourceStrict, OnlyTheSdpAddressMayLatch) {
  RtpSource s(LatchMode::kStrict, ep("192.0.2.10", 4000));
  EXPECT_FALSE(s.latched());
  EXPECT_EQ(s.peer(), ep("192.0.2.10", 4000));  // we send to the SDP address until a latch
  // A stranger sending first neither latches nor steers where we send.
  EXPECT_EQ(s.on_rtp(ep("198.51.100.7", 4000), 0x5757, at(0)), V::kStranger);
  EXPECT_FALSE(s.latched());
  EXPECT_EQ(s.peer(), ep("192.0.2.10", 4000));
  // The SDP's IP latches, on whatever port its packets come from.
  EXPECT_EQ(s.on_rtp(ep("192.0.2.10", 4002), 0x1111, at(20)), V::kNewStream);
  EXPECT_TRUE(s.latched());
  EXPECT_EQ(s.peer(), ep("192.0.2.10", 4002));
  EXPECT_EQ(s.ssrc(), 0x1111u);
  EXPECT_EQ(s.on_rtp(ep("192.0.2.10", 4002), 0x1111, at(40)), V::kAccept);
  // After the latch the stranger is still a stranger, whatever SSRC it claims.
  EXPECT_EQ(s.on_rtp(ep("198.51.100.7", 4000), 0x1111, at(50)), V::kStranger);
  EXPECT_EQ(s.peer(), ep("192.0.2.10", 4002));
}

TEST(RtpSourceStrict, AfterTheLatchNoOtherPortOfTheSameIp) {
  RtpSource s(LatchMode::kStrict, ep("192.0.2.10", 4000));
  ASSERT_EQ(s.on_rtp(ep("192.0.2.10", 4000), 0x1111, at(0)), V::kNewStream);
  // Same IP, another port: refused, with another SSRC or even claiming the latched one.
  EXPECT_EQ(s.on_rtp(ep("192.0.2.10", 5000), 0x2222, at(20)), V::kStranger);
  EXPECT_EQ(s.on_rtp(ep("192.0.2.10", 5000), 0x1111, at(40)), V::kStranger);
  EXPECT_EQ(s.peer(), ep("192.0.2.10", 4000));
  EXPECT_EQ(s.on_rtp(ep("192.0.2.10", 4000), 0x1111, at(60)), V::kAccept);
}

TEST(RtpSourceStrict, NewSsrcFromThePeerOnlyOnceTheOldOneWentQuiet) {
  RtpSource s(LatchMode::kStrict, ep("192.0.2.10", 4000));
  ASSERT_EQ(s.on_rtp(ep("192.0.2.10", 4000), 0x1111, at(0)), V::kNewStream);
  EXPECT_EQ(s.on_rtp(ep("192.0.2.10", 4000), 0x1111, at(20)), V::kAccept);
  // Interleaved with the live stream: a second stream is not mixed in.
  EXPECT_EQ(s.on_rtp(ep("192.0.2.10", 4000), 0x3333, at(30)), V::kOtherSsrc);
  EXPECT_EQ(s.on_rtp(ep("192.0.2.10", 4000), 0x1111, at(40)), V::kAccept);
  // The old stream stopped (a PBX re-originated): the new one takes over.
  const int later = 40 + static_cast<int>(RtpSource::kSsrcQuiet.count()) + 1;
  EXPECT_EQ(s.on_rtp(ep("192.0.2.10", 4000), 0x3333, at(later)), V::kNewStream);
  EXPECT_EQ(s.ssrc(), 0x3333u);
  EXPECT_EQ(s.on_rtp(ep("192.0.2.10", 4000), 0x1111, at(later + 20)), V::kOtherSsrc);
}

TEST(RtpSourceStrict, ReinviteToTheSameAddressKeepsTheLatch) {
  RtpSource s(LatchMode::kStrict, ep("192.0.2.10", 4000));
  ASSERT_EQ(s.on_rtp(ep("192.0.2.10", 4002), 0x1111, at(0)), V::kNewStream);
  s.on_sdp(ep("192.0.2.10", 4000));  // hold/unhold/refresh: same SDP address
  EXPECT_TRUE(s.latched());
  s.on_sdp(ep("0.0.0.0", 4000));  // old-style hold: ignored
  EXPECT_TRUE(s.latched());
  // And the stranger who hoped a re-INVITE would re-arm the latch is still refused.
  EXPECT_EQ(s.on_rtp(ep("198.51.100.7", 4000), 0x5757, at(20)), V::kStranger);
  EXPECT_EQ(s.peer(), ep("192.0.2.10", 4002));
}

TEST(RtpSourceStrict, ReinviteToANewAddressLatchesOnlyThere) {
  RtpSource s(LatchMode::kStrict, ep("192.0.2.10", 4000));
  ASSERT_EQ(s.on_rtp(ep("192.0.2.10", 4000), 0x1111, at(0)), V::kNewStream);
  s.on_sdp(ep("192.0.2.20", 6000));
  EXPECT_FALSE(s.latched());
  EXPECT_EQ(s.peer(), ep("192.0.2.20", 6000));
  EXPECT_EQ(s.on_rtp(ep("198.51.100.7", 6000), 0x5757, at(20)), V::kStranger);
  EXPECT_EQ(s.on_rtp(ep("192.0.2.10", 4000), 0x1111, at(40)), V::kStranger);  // the old one
  EXPECT_EQ(s.on_rtp(ep("192.0.2.20", 6000), 0x4444, at(60)), V::kNewStream);
  EXPECT_EQ(s.peer(), ep("192.0.2.20", 6000));
}

TEST(RtpSourceStrict, RtcpOnlyFromThePeer) {
  RtpSource s(LatchMode::kStrict, ep("192.0.2.10", 4000));
  EXPECT_TRUE(s.rtcp_allowed(ep("192.0.2.10", 4001)));
  EXPECT_FALSE(s.rtcp_allowed(ep("198.51.100.7", 4001)));
  ASSERT_EQ(s.on_rtp(ep("192.0.2.10", 4000), 0x1111, at(0)), V::kNewStream);
  EXPECT_TRUE(s.rtcp_allowed(ep("192.0.2.10", 7777)));
  EXPECT_FALSE(s.rtcp_allowed(ep("198.51.100.7", 4001)));
}

TEST(RtpSourceNat, FirstSourceLatchesAndNeverMoves) {
  // A caller behind NAT: its SDP names a private address, its packets come from its public one.
  RtpSource s(LatchMode::kNat, ep("10.0.0.5", 4000));
  EXPECT_FALSE(s.rtcp_allowed(ep("203.0.113.5", 31001)));  // nothing believed before a latch
  EXPECT_EQ(s.on_rtp(ep("203.0.113.5", 31000), 0x1111, at(0)), V::kNewStream);
  EXPECT_EQ(s.peer(), ep("203.0.113.5", 31000));
  EXPECT_EQ(s.on_rtp(ep("203.0.113.5", 31000), 0x1111, at(20)), V::kAccept);
  // Nobody else moves it: not another address, not the same IP on another port, not even
  // with the latched SSRC, not the private SDP address.
  EXPECT_EQ(s.on_rtp(ep("198.51.100.7", 4000), 0x5757, at(40)), V::kStranger);
  EXPECT_EQ(s.on_rtp(ep("203.0.113.5", 31002), 0x1111, at(60)), V::kStranger);
  EXPECT_EQ(s.on_rtp(ep("10.0.0.5", 4000), 0x1111, at(80)), V::kStranger);
  EXPECT_EQ(s.peer(), ep("203.0.113.5", 31000));
  EXPECT_TRUE(s.rtcp_allowed(ep("203.0.113.5", 31001)));
  EXPECT_FALSE(s.rtcp_allowed(ep("198.51.100.7", 4001)));
}

TEST(RtpSourceNat, ReinviteKeepsTheLatchUnlessTheNamedAddressSpeaks) {
  RtpSource s(LatchMode::kNat, ep("10.0.0.5", 4000));
  ASSERT_EQ(s.on_rtp(ep("203.0.113.5", 31000), 0x1111, at(0)), V::kNewStream);
  s.on_sdp(ep("10.0.0.5", 4000));  // same address: nothing changes
  EXPECT_EQ(s.on_rtp(ep("198.51.100.7", 4000), 0x5757, at(20)), V::kStranger);
  s.on_sdp(ep("192.0.2.30", 8000));  // the peer names a new address
  EXPECT_TRUE(s.latched());
  EXPECT_EQ(s.peer(), ep("203.0.113.5", 31000));  // still sending to the latch
  EXPECT_EQ(s.on_rtp(ep("198.51.100.7", 4000), 0x5757, at(40)), V::kStranger);
  EXPECT_EQ(s.on_rtp(ep("203.0.113.5", 31000), 0x1111, at(60)), V::kAccept);
  EXPECT_EQ(s.on_rtp(ep("192.0.2.30", 8000), 0x2222, at(80)), V::kNewStream);
  EXPECT_EQ(s.peer(), ep("192.0.2.30", 8000));
  EXPECT_EQ(s.on_rtp(ep("203.0.113.5", 31000), 0x1111, at(100)), V::kStranger);
}

TEST(RtpSourceMode, Parse) {
  EXPECT_EQ(parse_latch_mode("strict"), LatchMode::kStrict);
  EXPECT_EQ(parse_latch_mode("nat"), LatchMode::kNat);
  EXPECT_FALSE(parse_latch_mode("comedia"));
  EXPECT_STREQ(to_string(LatchMode::kNat), "nat");
}

}  // namespace
}  // namespace atende::media
