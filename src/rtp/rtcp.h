// RFC 3550 RTCP: a bounded parser for compound packets (SR and RR report blocks are read;
// SDES, BYE, APP and unknown types are stepped over by their length word) and writers for
// the minimal reports we send (SR or RR with at most one report block, plus SDES CNAME).
// Runs on the media thread: no allocation, no exceptions, errors as values.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace atende::rtp {

constexpr uint8_t kRtcpSenderReport = 200;
constexpr uint8_t kRtcpReceiverReport = 201;
constexpr uint8_t kRtcpSdes = 202;
constexpr uint8_t kRtcpBye = 203;
constexpr uint8_t kRtcpApp = 204;
// The report count field is 5 bits, so one SR/RR holds at most 31 blocks. We keep up to
// this many blocks per compound packet and count the rest as dropped.
constexpr size_t kMaxReportBlocks = 31;

enum class RtcpError {
  kOk,
  kTooShort,    // not even one 4-byte common header / less than the length word says
  kBadVersion,  // version field of some sub-packet is not 2
  kBadLength,   // a sub-packet's body is too small for its type and count
  kNotRtcp,     // first packet is not SR or RR (RFC 3550 6.1 says compounds start so)
};

const char* to_string(RtcpError error);

// One reception report block (RFC 3550 6.4.1).
struct ReportBlock {
  uint32_t ssrc = 0;                  // source this block reports on
  uint8_t fraction_lost = 0;          // fixed point, /256, since the previous report
  int32_t cumulative_lost = 0;        // 24-bit signed on the wire, clamped when written
  uint32_t extended_highest_seq = 0;  // cycles << 16 | highest sequence number
  uint32_t jitter = 0;                // interarrival jitter in RTP timestamp units
  uint32_t last_sr = 0;               // middle 32 bits of the NTP time of the last SR seen
  uint32_t delay_since_last_sr = 0;   // in 1/65536 s
};

// Sender info of an SR (RFC 3550 6.4.1).
struct SenderInfo {
  uint64_t ntp_timestamp = 0;  // 32.32 fixed point seconds since 1900
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
};

// What we take from one compound packet.
struct RtcpCompound {
  size_t packet_count = 0;  // sub-packets walked (all types)
  bool has_sender_report = false;
  uint32_t sender_ssrc = 0;  // SSRC of the first SR or RR
  SenderInfo sender;         // valid if has_sender_report
  size_t report_count = 0;   // blocks kept in `reports` (from every SR/RR of the compound)
  std::array<ReportBlock, kMaxReportBlocks> reports{};
  size_t reports_dropped = 0;  // blocks beyond kMaxReportBlocks
  bool has_bye = false;
  uint32_t bye_ssrc = 0;  // first SSRC of the first BYE (0 if it listed none)
};

// Parses a compound RTCP packet. On error `out` holds what was read before the bad part.
RtcpError parse_rtcp(std::span<const uint8_t> data, RtcpCompound& out);

// Writes SR (with `block` as its only report block when non-null), then an SDES with a
// CNAME item if `cname` is non-empty (truncated to 255 bytes). Returns bytes written, or
// 0 if `out` is too small.
size_t write_sender_report(std::span<uint8_t> out, uint32_t ssrc, const SenderInfo& info,
                           const ReportBlock* block, std::string_view cname = {});

// Same with an RR (used while we have sent nothing since the last report).
size_t write_receiver_report(std::span<uint8_t> out, uint32_t ssrc, const ReportBlock* block,
                             std::string_view cname = {});

// NTP 32.32 time from Unix time in microseconds (the caller reads the wall clock: SR
// timestamps are wall-clock by definition, the only place the media path needs it).
uint64_t ntp_from_unix_micros(int64_t unix_micros);
// Middle 32 bits of an NTP timestamp: the LSR field of report blocks.
inline uint32_t ntp_middle32(uint64_t ntp) { return static_cast<uint32_t>(ntp >> 16); }

}  // namespace atende::rtp
