// Offer/answer codec negotiation (RFC 3264) for one audio stream over RTP/AVP or RTP/SAVP.
// Answering: take the first codec in the *offerer's* order that we support, plus the
// offer's telephone-event (RFC 4733) payload type, and, as the SRTP policy says, the first
// a=crypto (RFC 4568) we can use. Offering: read the peer's answer and accept only a codec
// and a key tag we offered. Everything else (video, AVPF, extra audio lines) is rejected by
// answering it with port 0, so the caller only ever sees one audio stream.
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "sip/sdp.h"
#include "sip/sdp_crypto.h"
#include "sip/sdp_result.h"

namespace atende::sip {

struct CodecSpec {
  std::string name;       // canonical spelling, used in our SDP: "PCMU", "telephone-event"
  int static_pt = -1;     // RFC 3551 static payload type, or -1 for a dynamic one
  int clock_rate = 8000;  // RTP clock rate (G.722 is 8000 here: RFC 3551's historical quirk)
};

inline constexpr std::string_view kTelephoneEvent = "telephone-event";
inline constexpr int kDefaultTelephoneEventPt = 101;

// PCMU/0, PCMA/8, G722/9 and telephone-event/8000 (dynamic): what atende speaks today.
std::vector<CodecSpec> default_codecs();

// Enough of each remote m= line to reject it in our answer (same type, proto, a format).
struct MediaLineEcho {
  std::string media;
  std::string proto;
  std::string first_format;
};

struct NegotiatedAudio {
  std::size_t media_index = 0;             // which m= line carries our audio
  std::vector<MediaLineEcho> media_lines;  // every remote m= line, in order
  ConnectionAddress remote;                // where to send RTP
  int remote_port = 0;
  std::string codec_name;  // our canonical name, e.g. "PCMU"
  int payload_type = 0;    // as the remote numbered it (use it in both directions)
  int clock_rate = 8000;
  int telephone_event_pt = -1;  // -1: the remote cannot take RFC 4733 events
  // The remote's direction. A c= of 0.0.0.0 / :: counts as "does not receive", so
  // sendrecv becomes sendonly and recvonly becomes inactive.
  MediaDirection remote_direction = MediaDirection::kSendRecv;
  bool remote_address_unspecified = false;  // old-style hold (c=0.0.0.0)
  int ptime_ms = 0;                         // remote's a=ptime, 0 when absent
  std::string proto = "RTP/AVP";            // the m= line's profile (our answer repeats it)
  // SRTP: the peer's key, suite and tag (answering: the a=crypto we accepted; reading an
  // answer: the one they sent back for our tag). Empty: plain RTP.
  std::optional<CryptoAttribute> remote_crypto;

  bool srtp() const { return remote_crypto.has_value(); }

  // True when we may send RTP: the remote receives and has a real address.
  bool we_may_send() const;
  // True when the remote intends to send to us.
  bool remote_may_send() const;
};

// For an incoming offer. `supported` is our list (see default_codecs()); our order does not
// matter, the offerer's does. kNotAcceptable (-> 488) when no audio stream or codec fits,
// or `srtp` rules every audio stream out (required and no usable a=crypto; off and only
// RTP/SAVP offered).
SdpResult<NegotiatedAudio> negotiate_offer(const SessionDescription& offer,
                                           std::span<const CodecSpec> supported,
                                           SrtpPolicy srtp = SrtpPolicy::kOff);

// For the answer to our own offer. `offered` is the list we built the offer from and
// `offered_media_count` how many m= lines it had (the answer must have as many).
// `offered_crypto`: the a=crypto we offered (empty: a plain offer); the answer's a=crypto
// must name one of their tags with the same suite. With `srtp` required an answer without
// one is not acceptable.
SdpResult<NegotiatedAudio> negotiate_answer(const SessionDescription& answer,
                                            std::span<const CodecSpec> offered,
                                            std::size_t offered_media_count = 1,
                                            std::span<const CryptoAttribute> offered_crypto = {},
                                            SrtpPolicy srtp = SrtpPolicy::kOff);

}  // namespace atende::sip
