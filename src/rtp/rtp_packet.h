// RFC 3550 RTP fixed header: a bounded, copy-free parser into a view and a writer into a
// caller buffer. Everything here runs per packet on the media thread, so nothing allocates
// and bad input is reported as an error value, never an exception.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace atende::rtp {

constexpr size_t kRtpHeaderSize = 12;
constexpr size_t kMaxCsrc = 15;

enum class RtpError {
  kOk,
  kTooShort,           // fewer than 12 bytes
  kBadVersion,         // version field is not 2
  kCsrcOverflow,       // CSRC list runs past the end of the packet
  kExtensionOverflow,  // header extension runs past the end of the packet
  kBadPadding,         // padding count is 0 or larger than what follows the header
};

const char* to_string(RtpError error);

// A parsed packet. The spans point into the buffer given to parse_rtp(): valid as long as it.
struct RtpPacket {
  bool marker = false;
  uint8_t payload_type = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  uint8_t csrc_count = 0;
  std::array<uint32_t, kMaxCsrc> csrc{};
  bool has_extension = false;
  uint16_t extension_profile = 0;      // "defined by profile" field
  std::span<const uint8_t> extension;  // extension body (without its 4-byte header)
  uint8_t padding = 0;                 // padding bytes removed from the end (0 if none)
  std::span<const uint8_t> payload;    // may be empty (e.g. keep-alives)
};

RtpError parse_rtp(std::span<const uint8_t> data, RtpPacket& out);

// Header fields for the writer (no CSRC, no extension, no padding: what we send).
struct RtpHeader {
  bool marker = false;
  uint8_t payload_type = 0;  // 0..127
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
};

// Writes header + payload into `out`. Returns the packet size, or 0 if `out` is too small
// or payload_type does not fit in 7 bits.
size_t write_rtp(std::span<uint8_t> out, const RtpHeader& header, std::span<const uint8_t> payload);

// RFC 5761 demultiplexing when RTP and RTCP share a port: RTCP packet types 192..223
// land in the RTP marker+PT byte range that no audio payload type uses.
bool looks_like_rtcp(std::span<const uint8_t> data);

}  // namespace atende::rtp
