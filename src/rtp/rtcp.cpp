#include "rtp/rtcp.h"

#include <algorithm>
#include <cstring>

#include "rtp/byte_io.h"

namespace atende::rtp {

using detail::load16;
using detail::load24;
using detail::load32;
using detail::store16;
using detail::store24;
using detail::store32;

namespace {

constexpr size_t kHeaderSize = 4;
constexpr size_t kReportBlockSize = 24;
constexpr size_t kSenderInfoSize = 20;

ReportBlock read_block(const uint8_t* p) {
  ReportBlock b;
  b.ssrc = load32(p);
  b.fraction_lost = p[4];
  // 24-bit two's complement: shift into the top of an int32 and back to sign-extend.
  b.cumulative_lost = static_cast<int32_t>(load24(p + 5) << 8) >> 8;
  b.extended_highest_seq = load32(p + 8);
  b.jitter = load32(p + 12);
  b.last_sr = load32(p + 16);
  b.delay_since_last_sr = load32(p + 20);
  return b;
}

void write_block(uint8_t* p, const ReportBlock& b) {
  store32(p, b.ssrc);
  p[4] = b.fraction_lost;
  const int32_t lost = std::clamp<int32_t>(b.cumulative_lost, -0x800000, 0x7FFFFF);
  store24(p + 5, static_cast<uint32_t>(lost) & 0xFFFFFF);
  store32(p + 8, b.extended_highest_seq);
  store32(p + 12, b.jitter);
  store32(p + 16, b.last_sr);
  store32(p + 20, b.delay_since_last_sr);
}

void keep_blocks(const uint8_t* p, size_t count, RtcpCompound& out) {
  for (size_t i = 0; i < count; ++i, p += kReportBlockSize) {
    if (out.report_count == kMaxReportBlocks) {
      out.reports_dropped += count - i;
      return;
    }
    out.reports[out.report_count++] = read_block(p);
  }
}

void write_header(uint8_t* p, uint8_t count, uint8_t type, size_t total_bytes) {
  p[0] = static_cast<uint8_t>(0x80 | (count & 0x1F));
  p[1] = type;
  store16(p + 2, static_cast<uint16_t>(total_bytes / 4 - 1));
}

// SDES with one chunk: SSRC, CNAME item, END, padded to 32 bits. 0 if it does not fit.
size_t write_sdes_cname(std::span<uint8_t> out, uint32_t ssrc, std::string_view cname) {
  const size_t name_len = std::min<size_t>(cname.size(), 255);
  // header + SSRC + type + length + text + at least one zero byte (END), rounded up.
  const size_t size = (kHeaderSize + 4 + 2 + name_len + 1 + 3) / 4 * 4;
  if (out.size() < size) return 0;
  uint8_t* p = out.data();
  std::memset(p, 0, size);
  write_header(p, 1, kRtcpSdes, size);
  store32(p + 4, ssrc);
  p[8] = 1;  // CNAME
  p[9] = static_cast<uint8_t>(name_len);
  if (name_len > 0) std::memcpy(p + 10, cname.data(), name_len);
  return size;
}

}  // namespace

const char* to_string(RtcpError error) {
  switch (error) {
    case RtcpError::kOk:
      return "ok";
    case RtcpError::kTooShort:
      return "too short";
    case RtcpError::kBadVersion:
      return "bad version";
    case RtcpError::kBadLength:
      return "bad length";
    case RtcpError::kNotRtcp:
      return "not an RTCP compound (must start with SR or RR)";
  }
  return "unknown";
}

RtcpError parse_rtcp(std::span<const uint8_t> data, RtcpCompound& out) {
  out = RtcpCompound{};
  if (data.size() < kHeaderSize) return RtcpError::kTooShort;
  size_t pos = 0;
  bool first = true;
  bool have_reporter = false;
  while (pos < data.size()) {
    if (data.size() - pos < kHeaderSize) return RtcpError::kTooShort;
    const uint8_t* p = data.data() + pos;
    if ((p[0] >> 6) != 2) return RtcpError::kBadVersion;
    const size_t count = p[0] & 0x1F;
    const uint8_t type = p[1];
    const size_t size = (static_cast<size_t>(load16(p + 2)) + 1) * 4;
    if (size > data.size() - pos) return RtcpError::kTooShort;
    if (first && type != kRtcpSenderReport && type != kRtcpReceiverReport)
      return RtcpError::kNotRtcp;
    first = false;
    // Padding (P bit) is only legal on the last sub-packet and sits inside `size`, so
    // reading counted fields from the front stays in bounds without special handling.
    const size_t body = size - kHeaderSize;
    const uint8_t* b = p + kHeaderSize;
    switch (type) {
      case kRtcpSenderReport: {
        if (body < 4 + kSenderInfoSize + count * kReportBlockSize) return RtcpError::kBadLength;
        if (!have_reporter) {
          have_reporter = true;
          out.sender_ssrc = load32(b);
          out.has_sender_report = true;
          out.sender.ntp_timestamp = (static_cast<uint64_t>(load32(b + 4)) << 32) | load32(b + 8);
          out.sender.rtp_timestamp = load32(b + 12);
          out.sender.packet_count = load32(b + 16);
          out.sender.octet_count = load32(b + 20);
        }
        keep_blocks(b + 4 + kSenderInfoSize, count, out);
        break;
      }
      case kRtcpReceiverReport: {
        if (body < 4 + count * kReportBlockSize) return RtcpError::kBadLength;
        if (!have_reporter) {
          have_reporter = true;
          out.sender_ssrc = load32(b);
        }
        keep_blocks(b + 4, count, out);
        break;
      }
      case kRtcpBye: {
        if (body < count * 4) return RtcpError::kBadLength;
        if (!out.has_bye) {
          out.has_bye = true;
          out.bye_ssrc = count > 0 ? load32(b) : 0;
        }
        break;
      }
      default:  // SDES, APP, XR, feedback...: skipped by length
        break;
    }
    ++out.packet_count;
    pos += size;
  }
  return RtcpError::kOk;
}

size_t write_sender_report(std::span<uint8_t> out, uint32_t ssrc, const SenderInfo& info,
                           const ReportBlock* block, std::string_view cname) {
  const size_t size = kHeaderSize + 4 + kSenderInfoSize + (block ? kReportBlockSize : 0);
  if (out.size() < size) return 0;
  uint8_t* p = out.data();
  write_header(p, block ? 1 : 0, kRtcpSenderReport, size);
  store32(p + 4, ssrc);
  store32(p + 8, static_cast<uint32_t>(info.ntp_timestamp >> 32));
  store32(p + 12, static_cast<uint32_t>(info.ntp_timestamp));
  store32(p + 16, info.rtp_timestamp);
  store32(p + 20, info.packet_count);
  store32(p + 24, info.octet_count);
  if (block) write_block(p + 28, *block);
  if (cname.empty()) return size;
  const size_t sdes = write_sdes_cname(out.subspan(size), ssrc, cname);
  return sdes == 0 ? 0 : size + sdes;
}

size_t write_receiver_report(std::span<uint8_t> out, uint32_t ssrc, const ReportBlock* block,
                             std::string_view cname) {
  const size_t size = kHeaderSize + 4 + (block ? kReportBlockSize : 0);
  if (out.size() < size) return 0;
  uint8_t* p = out.data();
  write_header(p, block ? 1 : 0, kRtcpReceiverReport, size);
  store32(p + 4, ssrc);
  if (block) write_block(p + 8, *block);
  if (cname.empty()) return size;
  const size_t sdes = write_sdes_cname(out.subspan(size), ssrc, cname);
  return sdes == 0 ? 0 : size + sdes;
}

uint64_t ntp_from_unix_micros(int64_t unix_micros) {
  constexpr uint64_t kUnixToNtpSeconds = 2208988800ULL;  // 1900-01-01 to 1970-01-01
  if (unix_micros < 0) unix_micros = 0;                  // before 1970: not a clock we will meet
  const int64_t seconds = unix_micros / 1000000;
  const int64_t micros = unix_micros % 1000000;
  const uint64_t frac = (static_cast<uint64_t>(micros) << 32) / 1000000;
  return ((static_cast<uint64_t>(seconds) + kUnixToNtpSeconds) << 32) | frac;
}

}  // namespace atende::rtp
