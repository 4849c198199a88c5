#include "sip/sdp_negotiate.h"

#include "sip/sdp_text.h"

namespace atende::sip {

std::vector<CodecSpec> default_codecs() {
  return {
      {"PCMU", 0, 8000},
      {"PCMA", 8, 8000},
      {"G722", 9, 8000},
      {std::string(kTelephoneEvent), -1, 8000},
  };
}

bool NegotiatedAudio::we_may_send() const {
  return remote_direction == MediaDirection::kSendRecv ||
         remote_direction == MediaDirection::kRecvOnly;
}

bool NegotiatedAudio::remote_may_send() const {
  return remote_direction == MediaDirection::kSendRecv ||
         remote_direction == MediaDirection::kSendOnly;
}

namespace {

constexpr int kFirstDynamicPt = 96;

bool is_telephone_event(const CodecSpec& c) { return ascii_iequals(c.name, kTelephoneEvent); }

// Which of our codecs the remote's payload type `pt` is, or nullptr. An rtpmap wins
// (matched by name and rate, case-insensitively); without one only static types count.
const CodecSpec* match_codec(const MediaDescription& m, int pt, std::span<const CodecSpec> ours) {
  if (const RtpMap* map = m.find_rtpmap(pt)) {
    if (map->channels != 1) return nullptr;
    for (const auto& c : ours)
      if (ascii_iequals(c.name, map->encoding) && c.clock_rate == map->clock_rate) return &c;
    return nullptr;
  }
  if (pt >= kFirstDynamicPt) return nullptr;
  for (const auto& c : ours)
    if (c.static_pt == pt) return &c;
  return nullptr;
}

bool is_usable_audio(const MediaDescription& m) {
  // RTP/AVP and RTP/SAVP (SRTP keyed by a=crypto); AVPF needs RTCP feedback, and the
  // DTLS-SRTP profiles (UDP/TLS/RTP/SAVP) a DTLS handshake we do not do.
  return ascii_iequals(m.media, "audio") && m.port != 0 &&
         (m.proto == "RTP/AVP" || m.proto == "RTP/SAVP");
}

enum class Role { kAnswering, kReadingAnswer };

// Why the SRTP policy ruled an audio line out, for the 488's explanation.
enum class SrtpMiss { kNone, kSavpButOff, kNoUsableCrypto, kPlainButRequired };

// The key this audio line goes with, or why the line cannot be used. `chosen` is empty for
// plain RTP.
SrtpMiss choose_crypto(const MediaDescription& m, Role role, SrtpPolicy policy,
                       std::span<const CryptoAttribute> offered,
                       std::optional<CryptoAttribute>& chosen) {
  chosen.reset();
  if (role == Role::kAnswering) {
    if (m.is_savp() && policy == SrtpPolicy::kOff) return SrtpMiss::kSavpButOff;
    if (policy != SrtpPolicy::kOff && !m.crypto.empty()) chosen = m.crypto.front();
  } else if (!offered.empty()) {
    // Their answer names one of our tags with the same suite (RFC 4568 7.1.3).
    for (const auto& c : m.crypto) {
      for (const auto& o : offered) {
        if (o.tag == c.tag && o.suite == c.suite) {
          chosen = c;
          break;
        }
      }
      if (chosen) break;
    }
  } else if (m.is_savp()) {
    return SrtpMiss::kSavpButOff;  // SRTP in the answer to a plain offer: not what we asked
  }
  if (chosen) return SrtpMiss::kNone;
  if (m.is_savp()) return SrtpMiss::kNoUsableCrypto;
  if (policy == SrtpPolicy::kRequired) return SrtpMiss::kPlainButRequired;
  return SrtpMiss::kNone;
}

SdpResult<NegotiatedAudio> negotiate(const SessionDescription& sdp, std::span<const CodecSpec> ours,
                                     Role role, SrtpPolicy policy,
                                     std::span<const CryptoAttribute> offered_crypto) {
  bool saw_usable_audio = false;
  SrtpMiss srtp_miss = SrtpMiss::kNone;
  for (std::size_t i = 0; i < sdp.media.size(); ++i) {
    const MediaDescription& m = sdp.media[i];
    if (!is_usable_audio(m)) continue;
    std::optional<CryptoAttribute> crypto;
    if (SrtpMiss miss = choose_crypto(m, role, policy, offered_crypto, crypto);
        miss != SrtpMiss::kNone) {
      srtp_miss = miss;
      continue;
    }
    saw_usable_audio = true;
    const CodecSpec* codec = nullptr;
    int codec_pt = -1;
    for (int pt : m.payload_types) {
      const CodecSpec* c = match_codec(m, pt, ours);
      if (c && !is_telephone_event(*c)) {
        codec = c;
        codec_pt = pt;
        break;
      }
    }
    if (!codec) continue;  // maybe a later audio line has something we speak

    const ConnectionAddress* conn = sdp.connection_for(m);
    if (!conn) return sdp_error(SdpErrc::kMalformed, "no c= for the audio stream");

    NegotiatedAudio out;
    out.media_index = i;
    out.remote = *conn;
    out.remote_port = m.port;
    out.codec_name = codec->name;
    out.payload_type = codec_pt;
    out.clock_rate = codec->clock_rate;
    out.proto = m.proto;
    out.remote_crypto = std::move(crypto);
    for (int pt : m.payload_types) {
      const CodecSpec* c = match_codec(m, pt, ours);
      // Events must tick at the voice codec's RTP clock (RFC 4733 2.1).
      if (c && is_telephone_event(*c) && c->clock_rate == codec->clock_rate) {
        out.telephone_event_pt = pt;
        break;
      }
    }
    out.ptime_ms = m.ptime_ms;
    out.remote_direction = sdp.direction_for(m);
    out.remote_address_unspecified = conn->is_unspecified();
    if (out.remote_address_unspecified) {
      if (out.remote_direction == MediaDirection::kSendRecv)
        out.remote_direction = MediaDirection::kSendOnly;
      else if (out.remote_direction == MediaDirection::kRecvOnly)
        out.remote_direction = MediaDirection::kInactive;
    }
    out.media_lines.reserve(sdp.media.size());
    for (const auto& line : sdp.media)
      out.media_lines.push_back(
          MediaLineEcho{line.media, line.proto, line.formats.empty() ? "0" : line.formats.front()});
    return out;
  }
  if (!saw_usable_audio) {
    switch (srtp_miss) {
      case SrtpMiss::kSavpButOff:
        return sdp_error(SdpErrc::kNotAcceptable, role == Role::kAnswering
                                                      ? "RTP/SAVP offered but SRTP is off here"
                                                      : "SRTP answer to a plain RTP offer");
      case SrtpMiss::kNoUsableCrypto:
        return sdp_error(SdpErrc::kNotAcceptable,
                         role == Role::kAnswering
                             ? "no usable a=crypto (we speak AES_CM_128_HMAC_SHA1_80/_32)"
                             : "answer has no a=crypto for a key we offered");
      case SrtpMiss::kPlainButRequired:
        return sdp_error(SdpErrc::kNotAcceptable, role == Role::kAnswering
                                                      ? "SRTP is required here: plain RTP offered"
                                                      : "SRTP is required: plain RTP answered");
      case SrtpMiss::kNone:
        break;
    }
  }
  if (role == Role::kReadingAnswer) {
    return sdp_error(SdpErrc::kNotAcceptable, saw_usable_audio
                                                  ? "answer chose no codec we offered"
                                                  : "answer rejected the audio stream");
  }
  return sdp_error(SdpErrc::kNotAcceptable,
                   saw_usable_audio ? "no common codec" : "no usable RTP/AVP audio stream");
}

}  // namespace

SdpResult<NegotiatedAudio> negotiate_offer(const SessionDescription& offer,
                                           std::span<const CodecSpec> supported, SrtpPolicy srtp) {
  return negotiate(offer, supported, Role::kAnswering, srtp, {});
}

SdpResult<NegotiatedAudio> negotiate_answer(const SessionDescription& answer,
                                            std::span<const CodecSpec> offered,
                                            std::size_t offered_media_count,
                                            std::span<const CryptoAttribute> offered_crypto,
                                            SrtpPolicy srtp) {
  if (answer.media.size() != offered_media_count)
    return sdp_error(SdpErrc::kMalformed, "answer has a different number of m= lines");
  if (offered_crypto.empty()) srtp = SrtpPolicy::kOff;
  return negotiate(answer, offered, Role::kReadingAnswer, srtp, offered_crypto);
}

}  // namespace atende::sip
