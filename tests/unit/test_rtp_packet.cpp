// RFC 3550 RTP header parsing and writing: valid packets, and every way a hostile packet
// can lie about its own layout.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "rtp/rtp_packet.h"

namespace atende::rtp {
namespace {

std::vector<uint8_t> header(uint8_t b0, uint8_t b1 = 0x00) {
  // seq 0x1234, ts 0x01020304, ssrc 0xdeadbeef
  return {b0, b1, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04, 0xde, 0xad, 0xbe, 0xef};
}

TEST(RtpPacket, ParsesMinimalHeaderAndPayload) {
  auto p = header(0x80, 0x80 | 8);
  p.insert(p.end(), {1, 2, 3});
  RtpPacket pkt;
  ASSERT_EQ(parse_rtp(p, pkt), RtpError::kOk);
  EXPECT_TRUE(pkt.marker);
  EXPECT_EQ(pkt.payload_type, 8);
  EXPECT_EQ(pkt.sequence, 0x1234);
  EXPECT_EQ(pkt.timestamp, 0x01020304u);
  EXPECT_EQ(pkt.ssrc, 0xdeadbeefu);
  EXPECT_EQ(pkt.csrc_count, 0);
  EXPECT_FALSE(pkt.has_extension);
  ASSERT_EQ(pkt.payload.size(), 3u);
  EXPECT_EQ(pkt.payload[0], 1);
  EXPECT_EQ(pkt.payload.data(), p.data() + 12);  // a view, not a copy
}

TEST(RtpPacket, EmptyPayloadIsValid) {
  auto p = header(0x80);
  RtpPacket pkt;
  ASSERT_EQ(parse_rtp(p, pkt), RtpError::kOk);
  EXPECT_TRUE(pkt.payload.empty());
}

TEST(RtpPacket, TruncatedHeaderIsRejected) {
  auto p = header(0x80);
  for (size_t n = 0; n < 12; ++n) {
    RtpPacket pkt;
    EXPECT_EQ(parse_rtp({p.data(), n}, pkt), RtpError::kTooShort) << n;
  }
}

TEST(RtpPacket, WrongVersionIsRejected) {
  for (uint8_t v : {0x00, 0x40, 0xC0}) {
    auto p = header(v);
    p.push_back(0);
    RtpPacket pkt;
    EXPECT_EQ(parse_rtp(p, pkt), RtpError::kBadVersion);
  }
}

TEST(RtpPacket, CsrcListIsRead) {
  auto p = header(0x82);
  p.insert(p.end(), {0, 0, 0, 1, 0, 0, 0, 2, 0xAA});
  RtpPacket pkt;
  ASSERT_EQ(parse_rtp(p, pkt), RtpError::kOk);
  ASSERT_EQ(pkt.csrc_count, 2);
  EXPECT_EQ(pkt.csrc[0], 1u);
  EXPECT_EQ(pkt.csrc[1], 2u);
  ASSERT_EQ(pkt.payload.size(), 1u);
  EXPECT_EQ(pkt.payload[0], 0xAA);
}

TEST(RtpPacket, CsrcOverflowingThePacketIsRejected) {
  auto p = header(0x8F);              // claims 15 CSRCs = 60 bytes
  p.insert(p.end(), 59, uint8_t{0});  // one byte short
  RtpPacket pkt;
  EXPECT_EQ(parse_rtp(p, pkt), RtpError::kCsrcOverflow);
  p.push_back(0);
  EXPECT_EQ(parse_rtp(p, pkt), RtpError::kOk);
  EXPECT_TRUE(pkt.payload.empty());
}

TEST(RtpPacket, HeaderExtensionIsSkipped) {
  auto p = header(0x90);
  p.insert(p.end(), {0xBE, 0xDE, 0x00, 0x01, 9, 9, 9, 9, 0x55});
  RtpPacket pkt;
  ASSERT_EQ(parse_rtp(p, pkt), RtpError::kOk);
  EXPECT_TRUE(pkt.has_extension);
  EXPECT_EQ(pkt.extension_profile, 0xBEDE);
  EXPECT_EQ(pkt.extension.size(), 4u);
  ASSERT_EQ(pkt.payload.size(), 1u);
  EXPECT_EQ(pkt.payload[0], 0x55);
}

TEST(RtpPacket, ExtensionLengthOverflowingThePacketIsRejected) {
  RtpPacket pkt;
  auto no_ext_header = header(0x90);
  no_ext_header.insert(no_ext_header.end(), {0xBE, 0xDE});  // extension header cut short
  EXPECT_EQ(parse_rtp(no_ext_header, pkt), RtpError::kExtensionOverflow);

  auto p = header(0x90);
  p.insert(p.end(), {0xBE, 0xDE, 0xFF, 0xFF, 1, 2, 3, 4});  // claims 262140 bytes
  EXPECT_EQ(parse_rtp(p, pkt), RtpError::kExtensionOverflow);
}

TEST(RtpPacket, PaddingIsRemoved) {
  auto p = header(0xA0);
  p.insert(p.end(), {7, 7, 0, 0, 3});  // 2 payload bytes + 3 padding
  RtpPacket pkt;
  ASSERT_EQ(parse_rtp(p, pkt), RtpError::kOk);
  EXPECT_EQ(pkt.padding, 3);
  EXPECT_EQ(pkt.payload.size(), 2u);
}

TEST(RtpPacket, PaddingLargerThanPacketIsRejected) {
  RtpPacket pkt;
  auto p = header(0xA0);
  p.insert(p.end(), {7, 7, 200});
  EXPECT_EQ(parse_rtp(p, pkt), RtpError::kBadPadding);

  auto zero = header(0xA0);
  zero.insert(zero.end(), {7, 0});  // padding count 0 is impossible (it counts itself)
  EXPECT_EQ(parse_rtp(zero, pkt), RtpError::kBadPadding);

  auto eats_csrc = header(0xA1);  // padding may not reach back into the CSRC list
  eats_csrc.insert(eats_csrc.end(), {0, 0, 0, 1, 5});
  EXPECT_EQ(parse_rtp(eats_csrc, pkt), RtpError::kBadPadding);
}

TEST(RtpPacket, PaddingOfWholePayloadLeavesEmptyPayload) {
  auto p = header(0xA0);
  p.insert(p.end(), {0, 0, 3});
  RtpPacket pkt;
  ASSERT_EQ(parse_rtp(p, pkt), RtpError::kOk);
  EXPECT_TRUE(pkt.payload.empty());
}

TEST(RtpPacket, WriterRoundTripsThroughParser) {
  const uint8_t payload[] = {10, 20, 30, 40};
  std::vector<uint8_t> buf(64);
  RtpHeader h{true, 9, 65535, 0xFFFFFFF0u, 0x01020304u};
  const size_t n = write_rtp(buf, h, payload);
  ASSERT_EQ(n, 16u);
  RtpPacket pkt;
  ASSERT_EQ(parse_rtp({buf.data(), n}, pkt), RtpError::kOk);
  EXPECT_TRUE(pkt.marker);
  EXPECT_EQ(pkt.payload_type, 9);
  EXPECT_EQ(pkt.sequence, 65535);
  EXPECT_EQ(pkt.timestamp, 0xFFFFFFF0u);
  EXPECT_EQ(pkt.ssrc, 0x01020304u);
  ASSERT_EQ(pkt.payload.size(), 4u);
  EXPECT_EQ(pkt.payload[3], 40);
}

TEST(RtpPacket, WriterRefusesSmallBufferAndBadPayloadType) {
  const uint8_t payload[] = {1, 2, 3, 4};
  std::vector<uint8_t> buf(15);
  EXPECT_EQ(write_rtp(buf, RtpHeader{}, payload), 0u);
  std::vector<uint8_t> big(64);
  RtpHeader h;
  h.payload_type = 128;
  EXPECT_EQ(write_rtp(big, h, payload), 0u);
}

TEST(RtpPacket, RtcpDemultiplexing) {
  const uint8_t sr[] = {0x80, 200, 0, 6};
  const uint8_t pcmu_marker[] = {0x80, 0x80, 0, 0};  // marker + PT 0 = 128
  const uint8_t dyn[] = {0x80, 101, 0, 0};
  EXPECT_TRUE(looks_like_rtcp(sr));
  EXPECT_FALSE(looks_like_rtcp(pcmu_marker));
  EXPECT_FALSE(looks_like_rtcp(dyn));
  EXPECT_FALSE(looks_like_rtcp({sr, 1}));
}

}  // namespace
}  // namespace atende::rtp
