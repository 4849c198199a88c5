// Builds our SDP: the answer to a negotiated offer, and the offer for an outbound call.
// Output uses CRLF line ends and only the lines a telephone needs (RFC 3264, RFC 4733).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sip/sdp.h"
#include "sip/sdp_negotiate.h"
#include "sip/sdp_result.h"

namespace atende::sip {

struct LocalSdp {
  std::string address;  // our media IP literal (IPv4 or IPv6), used in o= and c=
  int rtp_port = 0;     // 1..65535
  std::uint64_t session_id = 0;
  // RFC 3264 8: bump on every new offer or answer in the dialog (e.g. each re-INVITE).
  std::uint64_t session_version = 0;
  std::string username = "atende";
  std::string session_name = "atende";
  int ptime_ms = 20;
  // SRTP (RFC 4568). Offer: every attribute here is offered, in order, under RTP/SAVP when
  // `savp` (SRTP or nothing) or RTP/AVP otherwise (RFC 8643 opportunistic SRTP). Answer:
  // the attribute whose suite the negotiation chose is sent with the offerer's tag.
  std::vector<CryptoAttribute> crypto;
  bool savp = false;
};

// Our answer. `direction` defaults to the mirror of the remote's (they sendonly -> we
// recvonly). Every m= line but the negotiated one is echoed with port 0 (rejected). When
// the negotiation chose SRTP, `local.crypto` must hold a key of that suite (kBadLocal if not).
SdpResult<std::string> build_answer(const NegotiatedAudio& negotiated, const LocalSdp& local,
                                    std::optional<MediaDirection> direction = std::nullopt);

// Our offer: one audio line with `codecs` in order; static ones keep their number, dynamic
// ones (telephone-event) get 101, 102, ... Pass the same list to negotiate_answer().
SdpResult<std::string> build_offer(const LocalSdp& local, std::span<const CodecSpec> codecs,
                                   MediaDirection direction = MediaDirection::kSendRecv);

// The payload type build_offer() gives codecs[index].
int offered_payload_type(std::span<const CodecSpec> codecs, std::size_t index);

}  // namespace atende::sip
