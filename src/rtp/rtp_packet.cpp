#include "rtp/rtp_packet.h"

#include <cstring>

#include "rtp/byte_io.h"

namespace atende::rtp {

using detail::load16;
using detail::load32;

const char* to_string(RtpError error) {
  switch (error) {
    case RtpError::kOk:
      return "ok";
    case RtpError::kTooShort:
      return "too short";
    case RtpError::kBadVersion:
      return "bad version";
    case RtpError::kCsrcOverflow:
      return "CSRC list overflows packet";
    case RtpError::kExtensionOverflow:
      return "header extension overflows packet";
    case RtpError::kBadPadding:
      return "bad padding";
  }
  return "unknown";
}

RtpError parse_rtp(std::span<const uint8_t> data, RtpPacket& out) {
  if (data.size() < kRtpHeaderSize) return RtpError::kTooShort;
  const uint8_t* p = data.data();
  if ((p[0] >> 6) != 2) return RtpError::kBadVersion;
  const bool has_padding = (p[0] & 0x20) != 0;
  out.has_extension = (p[0] & 0x10) != 0;
  out.csrc_count = p[0] & 0x0F;
  out.marker = (p[1] & 0x80) != 0;
  out.payload_type = p[1] & 0x7F;
  out.sequence = load16(p + 2);
  out.timestamp = load32(p + 4);
  out.ssrc = load32(p + 8);

  // `pos` and `end` are indices into data; every advance is checked against `end` first.
  size_t pos = kRtpHeaderSize;
  size_t end = data.size();
  if (end - pos < static_cast<size_t>(out.csrc_count) * 4) return RtpError::kCsrcOverflow;
  for (uint8_t i = 0; i < out.csrc_count; ++i, pos += 4) out.csrc[i] = load32(p + pos);

  out.extension_profile = 0;
  out.extension = {};
  if (out.has_extension) {
    if (end - pos < 4) return RtpError::kExtensionOverflow;
    out.extension_profile = load16(p + pos);
    const size_t words = load16(p + pos + 2);
    pos += 4;
    if (end - pos < words * 4) return RtpError::kExtensionOverflow;
    out.extension = data.subspan(pos, words * 4);
    pos += words * 4;
  }

  out.padding = 0;
  if (has_padding) {
    // The last byte counts the padding including itself, so 0 is malformed.
    const uint8_t count = p[end - 1];
    if (count == 0 || count > end - pos) return RtpError::kBadPadding;
    out.padding = count;
    end -= count;
  }
  out.payload = data.subspan(pos, end - pos);
  return RtpError::kOk;
}

size_t write_rtp(std::span<uint8_t> out, const RtpHeader& header,
                 std::span<const uint8_t> payload) {
  if (header.payload_type > 127) return 0;
  if (out.size() < kRtpHeaderSize || out.size() - kRtpHeaderSize < payload.size()) return 0;
  uint8_t* p = out.data();
  p[0] = 0x80;  // version 2, no padding, no extension, no CSRC
  p[1] = static_cast<uint8_t>((header.marker ? 0x80 : 0) | header.payload_type);
  detail::store16(p + 2, header.sequence);
  detail::store32(p + 4, header.timestamp);
  detail::store32(p + 8, header.ssrc);
  if (!payload.empty()) std::memcpy(p + kRtpHeaderSize, payload.data(), payload.size());
  return kRtpHeaderSize + payload.size();
}

bool looks_like_rtcp(std::span<const uint8_t> data) {
  return data.size() >= 2 && (data[0] >> 6) == 2 && data[1] >= 192 && data[1] <= 223;
}

}  // namespace atende::rtp
