// RTCP compound parsing (SR, RR, SDES/BYE skipped) and the SR/RR/SDES writers.
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "rtp/rtcp.h"

namespace atende::rtp {
namespace {

void put32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

// Common header: version 2, count, type, length in 32-bit words minus one.
void put_header(std::vector<uint8_t>& v, uint8_t count, uint8_t type, uint16_t words_minus_one) {
  v.push_back(static_cast<uint8_t>(0x80 | count));
  v.push_back(type);
  v.push_back(static_cast<uint8_t>(words_minus_one >> 8));
  v.push_back(static_cast<uint8_t>(words_minus_one));
}

void put_block(std::vector<uint8_t>& v, uint32_t ssrc, uint8_t fraction, uint32_t lost24,
               uint32_t ext_seq, uint32_t jitter, uint32_t lsr, uint32_t dlsr) {
  put32(v, ssrc);
  v.push_back(fraction);
  v.push_back(static_cast<uint8_t>(lost24 >> 16));
  v.push_back(static_cast<uint8_t>(lost24 >> 8));
  v.push_back(static_cast<uint8_t>(lost24));
  put32(v, ext_seq);
  put32(v, jitter);
  put32(v, lsr);
  put32(v, dlsr);
}

std::vector<uint8_t> sender_report_with_one_block() {
  std::vector<uint8_t> v;
  put_header(v, 1, kRtcpSenderReport, 12);  // 4 + 4 + 20 + 24 = 52 bytes = 13 words
  put32(v, 0x11111111);
  put32(v, 0xE0000000);  // NTP seconds
  put32(v, 0x80000000);  // NTP fraction
  put32(v, 123456);      // RTP ts
  put32(v, 50);          // packets
  put32(v, 8000);        // octets
  put_block(v, 0x22222222, 64, 0x000010, 0x0001FFFF, 80, 0xABCD1234, 65536);
  return v;
}

std::vector<uint8_t> sdes_cname(uint32_t ssrc, const std::string& name) {
  std::vector<uint8_t> body;
  put32(body, ssrc);
  body.push_back(1);
  body.push_back(static_cast<uint8_t>(name.size()));
  body.insert(body.end(), name.begin(), name.end());
  body.push_back(0);
  while (body.size() % 4) body.push_back(0);
  std::vector<uint8_t> v;
  put_header(v, 1, kRtcpSdes, static_cast<uint16_t>(body.size() / 4));
  v.insert(v.end(), body.begin(), body.end());
  return v;
}

std::vector<uint8_t> bye(uint32_t ssrc) {
  std::vector<uint8_t> v;
  put_header(v, 1, kRtcpBye, 1);
  put32(v, ssrc);
  return v;
}

TEST(Rtcp, ParsesSenderReportWithBlock) {
  const auto p = sender_report_with_one_block();
  RtcpCompound c;
  ASSERT_EQ(parse_rtcp(p, c), RtcpError::kOk);
  EXPECT_TRUE(c.has_sender_report);
  EXPECT_EQ(c.sender_ssrc, 0x11111111u);
  EXPECT_EQ(c.sender.ntp_timestamp, 0xE000000080000000ull);
  EXPECT_EQ(c.sender.rtp_timestamp, 123456u);
  EXPECT_EQ(c.sender.packet_count, 50u);
  EXPECT_EQ(c.sender.octet_count, 8000u);
  ASSERT_EQ(c.report_count, 1u);
  const ReportBlock& b = c.reports[0];
  EXPECT_EQ(b.ssrc, 0x22222222u);
  EXPECT_EQ(b.fraction_lost, 64);
  EXPECT_EQ(b.cumulative_lost, 16);
  EXPECT_EQ(b.extended_highest_seq, 0x0001FFFFu);
  EXPECT_EQ(b.jitter, 80u);
  EXPECT_EQ(b.last_sr, 0xABCD1234u);
  EXPECT_EQ(b.delay_since_last_sr, 65536u);
}

TEST(Rtcp, ParsesCompoundAndSkipsSdesFindsBye) {
  std::vector<uint8_t> p;
  put_header(p, 2, kRtcpReceiverReport, 13);  // 4 + 4 + 2*24 = 56 bytes = 14 words
  put32(p, 0x33333333);
  put_block(p, 1, 0, 0xFFFFFF, 100, 1, 0, 0);  // cumulative lost -1 (duplicates)
  put_block(p, 2, 0, 0x7FFFFF, 200, 2, 0, 0);
  const auto sdes = sdes_cname(0x33333333, "user@host");
  const auto b = bye(0x33333333);
  p.insert(p.end(), sdes.begin(), sdes.end());
  p.insert(p.end(), b.begin(), b.end());

  RtcpCompound c;
  ASSERT_EQ(parse_rtcp(p, c), RtcpError::kOk);
  EXPECT_FALSE(c.has_sender_report);
  EXPECT_EQ(c.sender_ssrc, 0x33333333u);
  EXPECT_EQ(c.packet_count, 3u);
  ASSERT_EQ(c.report_count, 2u);
  EXPECT_EQ(c.reports[0].cumulative_lost, -1);  // 24-bit sign extension
  EXPECT_EQ(c.reports[1].cumulative_lost, 0x7FFFFF);
  EXPECT_EQ(c.reports[1].extended_highest_seq, 200u);
  EXPECT_TRUE(c.has_bye);
  EXPECT_EQ(c.bye_ssrc, 0x33333333u);
}

TEST(Rtcp, EmptyAndTruncatedAreRejected) {
  RtcpCompound c;
  EXPECT_EQ(parse_rtcp({}, c), RtcpError::kTooShort);
  const auto p = sender_report_with_one_block();
  for (size_t n = 1; n < p.size(); ++n) {
    const RtcpError e = parse_rtcp({p.data(), n}, c);
    EXPECT_NE(e, RtcpError::kOk) << "cut at " << n;
  }
}

TEST(Rtcp, WrongVersionIsRejected) {
  auto p = sender_report_with_one_block();
  p[0] = static_cast<uint8_t>((p[0] & 0x3F) | 0x40);
  RtcpCompound c;
  EXPECT_EQ(parse_rtcp(p, c), RtcpError::kBadVersion);

  // Also in a later sub-packet of the compound.
  auto q = sender_report_with_one_block();
  auto b = bye(1);
  b[0] = 0x01;
  q.insert(q.end(), b.begin(), b.end());
  EXPECT_EQ(parse_rtcp(q, c), RtcpError::kBadVersion);
}

TEST(Rtcp, LengthWordPastTheEndIsRejected) {
  auto p = sender_report_with_one_block();
  p[2] = 0xFF;
  p[3] = 0xFF;
  RtcpCompound c;
  EXPECT_EQ(parse_rtcp(p, c), RtcpError::kTooShort);
}

TEST(Rtcp, ReportCountLargerThanBodyIsRejected) {
  std::vector<uint8_t> p;
  put_header(p, 31, kRtcpReceiverReport, 7);  // claims 31 blocks, carries one
  put32(p, 1);
  put_block(p, 1, 0, 0, 0, 0, 0, 0);
  RtcpCompound c;
  EXPECT_EQ(parse_rtcp(p, c), RtcpError::kBadLength);

  std::vector<uint8_t> short_sr;
  put_header(short_sr, 0, kRtcpSenderReport, 1);  // SR body too small for sender info
  put32(short_sr, 1);
  EXPECT_EQ(parse_rtcp(short_sr, c), RtcpError::kBadLength);
}

TEST(Rtcp, CompoundMustStartWithReport) {
  const auto p = bye(7);
  RtcpCompound c;
  EXPECT_EQ(parse_rtcp(p, c), RtcpError::kNotRtcp);
}

TEST(Rtcp, ManyBlocksAreBoundedAndCounted) {
  // Two RRs of 31 blocks each: 62 blocks, more than the fixed array holds.
  std::vector<uint8_t> p;
  for (int r = 0; r < 2; ++r) {
    put_header(p, 31, kRtcpReceiverReport, static_cast<uint16_t>(1 + 31 * 6));
    put32(p, 9);
    for (uint32_t i = 0; i < 31; ++i) put_block(p, i, 0, 0, i, 0, 0, 0);
  }
  RtcpCompound c;
  ASSERT_EQ(parse_rtcp(p, c), RtcpError::kOk);
  EXPECT_EQ(c.report_count, kMaxReportBlocks);
  EXPECT_EQ(c.reports_dropped, 62 - kMaxReportBlocks);
}

TEST(Rtcp, SenderReportWriterRoundTrips) {
  SenderInfo info{0x0123456789ABCDEFull, 777, 10, 1600};
  ReportBlock block;
  block.ssrc = 0xCAFEBABE;
  block.fraction_lost = 12;
  block.cumulative_lost = -3;
  block.extended_highest_seq = 70000;
  block.jitter = 42;
  block.last_sr = 5;
  block.delay_since_last_sr = 6;
  std::vector<uint8_t> buf(256);
  const size_t n = write_sender_report(buf, 0x1234, info, &block, "atende");
  ASSERT_GT(n, 0u);
  EXPECT_EQ(n % 4, 0u);

  RtcpCompound c;
  ASSERT_EQ(parse_rtcp({buf.data(), n}, c), RtcpError::kOk);
  EXPECT_EQ(c.packet_count, 2u);  // SR + SDES
  EXPECT_TRUE(c.has_sender_report);
  EXPECT_EQ(c.sender_ssrc, 0x1234u);
  EXPECT_EQ(c.sender.ntp_timestamp, info.ntp_timestamp);
  EXPECT_EQ(c.sender.rtp_timestamp, 777u);
  EXPECT_EQ(c.sender.packet_count, 10u);
  EXPECT_EQ(c.sender.octet_count, 1600u);
  ASSERT_EQ(c.report_count, 1u);
  EXPECT_EQ(c.reports[0].ssrc, 0xCAFEBABEu);
  EXPECT_EQ(c.reports[0].fraction_lost, 12);
  EXPECT_EQ(c.reports[0].cumulative_lost, -3);
  EXPECT_EQ(c.reports[0].extended_highest_seq, 70000u);
  EXPECT_EQ(c.reports[0].jitter, 42u);
  EXPECT_EQ(c.reports[0].last_sr, 5u);
  EXPECT_EQ(c.reports[0].delay_since_last_sr, 6u);

  // The CNAME text is in the datagram.
  const std::string text(buf.begin(), buf.begin() + static_cast<long>(n));
  EXPECT_NE(text.find("atende"), std::string::npos);
}

TEST(Rtcp, ReceiverReportWriterRoundTripsAndClampsLoss) {
  ReportBlock block;
  block.ssrc = 1;
  block.cumulative_lost = 100'000'000;  // beyond 24 bits: clamped, not wrapped
  std::vector<uint8_t> buf(256);
  const size_t n = write_receiver_report(buf, 0x99, &block);
  ASSERT_EQ(n, 32u);  // header + SSRC + one block, no SDES without a CNAME
  RtcpCompound c;
  ASSERT_EQ(parse_rtcp({buf.data(), n}, c), RtcpError::kOk);
  EXPECT_FALSE(c.has_sender_report);
  EXPECT_EQ(c.sender_ssrc, 0x99u);
  ASSERT_EQ(c.report_count, 1u);
  EXPECT_EQ(c.reports[0].cumulative_lost, 0x7FFFFF);

  const size_t empty = write_receiver_report(buf, 0x99, nullptr);
  EXPECT_EQ(empty, 8u);
  ASSERT_EQ(parse_rtcp({buf.data(), empty}, c), RtcpError::kOk);
  EXPECT_EQ(c.report_count, 0u);
}

TEST(Rtcp, WritersRefuseSmallBuffers) {
  ReportBlock block;
  std::vector<uint8_t> buf(31);
  EXPECT_EQ(write_receiver_report(buf, 1, &block), 0u);
  std::vector<uint8_t> buf2(40);
  EXPECT_EQ(write_sender_report(buf2, 1, SenderInfo{}, &block), 0u);
  std::vector<uint8_t> buf3(33);  // RR fits, the SDES after it does not
  EXPECT_EQ(write_receiver_report(buf3, 1, &block, "a-long-cname"), 0u);
}

TEST(Rtcp, NtpFromUnixTime) {
  // 1970-01-01 is 2208988800 s after the NTP epoch.
  EXPECT_EQ(ntp_from_unix_micros(0), 2208988800ull << 32);
  EXPECT_EQ(ntp_from_unix_micros(500'000), (2208988800ull << 32) | 0x80000000ull);
  EXPECT_EQ(ntp_middle32(0x0000ABCD12340000ull), 0xABCD1234u);
}

}  // namespace
}  // namespace atende::rtp
