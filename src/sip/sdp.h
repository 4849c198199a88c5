// SDP (RFC 8866, formerly 4566) parser for the subset a telephone needs: session and
// media-level c=, o=, m= lines, a=rtpmap/fmtp/ptime, a=crypto (SDES keys, sdp_crypto.h) and
// the direction attributes.
// Input is untrusted network text: every size and count is bounded and every number is
// range-checked; errors come back as SdpError, never as exceptions or crashes.
// sofia-sip's own SDP engine (soa) is disabled; see docs/sdp.md for what we accept.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/sdp_crypto.h"
#include "sip/sdp_result.h"

namespace atende::sip {

// Limits on what parse_sdp() accepts. A real offer is 300-1500 bytes and 10-40 lines.
struct SdpLimits {
  std::size_t max_body_bytes = 16 * 1024;
  std::size_t max_lines = 256;
  std::size_t max_line_bytes = 1024;
  std::size_t max_media = 16;
  // RTP has 128 payload types, so a longer format list is junk.
  std::size_t max_formats_per_media = 128;
  // a=crypto lines we keep per media section (an offer has one or two per suite it speaks).
  std::size_t max_crypto_per_media = 16;
};

enum class MediaDirection { kSendRecv, kSendOnly, kRecvOnly, kInactive };

// The direction the other side should use when we see `d` from the peer (RFC 3264 6.1):
// they send only -> we receive only, and so on.
MediaDirection mirror(MediaDirection d);
std::string_view to_string(MediaDirection d);

enum class AddressFamily { kIp4, kIp6 };

struct ConnectionAddress {
  AddressFamily family = AddressFamily::kIp4;
  std::string address;  // a numeric literal, validated (no host names)
  // 0.0.0.0 or :: : the RFC 2543 way of saying "hold, do not send to me".
  bool is_unspecified() const;
};

struct Origin {
  std::string username;
  std::string session_id;       // decimal digits, up to 20
  std::string session_version;  // decimal digits, up to 20
  std::string address;          // as sent (may be a host name); not used for media
};

struct RtpMap {
  int payload_type = 0;
  std::string encoding;  // as sent, e.g. "PCMU", "telephone-event"
  int clock_rate = 0;
  int channels = 1;
};

struct Fmtp {
  int payload_type = 0;
  std::string parameters;
};

struct MediaDescription {
  std::string media;  // "audio", "video", "application", ...
  int port = 0;       // 0..65535; 0 means the offerer rejected/disabled the stream
  int port_count = 1;
  std::string proto;                 // "RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVPF", ...
  std::vector<std::string> formats;  // the m= format tokens, as sent
  std::vector<int> payload_types;    // the same, as numbers 0..127, for RTP protos only
  std::vector<RtpMap> rtpmaps;       // only for payload types listed on the m= line
  std::vector<Fmtp> fmtps;           // only for payload types listed on the m= line
  int ptime_ms = 0;                  // 0 when absent
  std::optional<MediaDirection> direction;
  std::optional<ConnectionAddress> connection;
  // The a=crypto attributes we can use, in the order sent (unique tags); those we cannot
  // (another suite, an MKI, malformed) are only counted.
  std::vector<CryptoAttribute> crypto;
  int crypto_unusable = 0;

  bool is_rtp() const;
  bool is_savp() const;  // RTP/SAVP: SRTP is the only way (RFC 3711)  // proto is some RTP profile,
                         // so formats are payload types
  const RtpMap* find_rtpmap(int payload_type) const;
  const Fmtp* find_fmtp(int payload_type) const;
};

struct SessionDescription {
  std::optional<Origin> origin;
  std::string session_name;
  std::optional<ConnectionAddress> connection;  // session-level c=
  std::optional<MediaDirection> direction;      // session-level direction attribute
  std::vector<MediaDescription> media;

  // Media-level c= if present, else the session-level one, else nullptr.
  const ConnectionAddress* connection_for(const MediaDescription& m) const;
  // Media-level direction, else session-level, else sendrecv (RFC 3264 5.1).
  MediaDirection direction_for(const MediaDescription& m) const;
};

SdpResult<SessionDescription> parse_sdp(std::string_view body, const SdpLimits& limits = {});

}  // namespace atende::sip
