#include "sip/sdp_build.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "sip/sdp_text.h"

namespace atende::sip {

namespace {

bool is_clean_token(std::string_view s) {
  return !s.empty() && s.size() <= 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

bool is_clean_text(std::string_view s) {
  return s.size() <= 256 && std::all_of(s.begin(), s.end(), [](char c) {
           auto u = static_cast<unsigned char>(c);
           return u >= 0x20 && u != 0x7f;
         });
}

std::string_view family_name(AddressFamily f) { return f == AddressFamily::kIp4 ? "IP4" : "IP6"; }

// The session part shared by offers and answers: v=, o=, s=, c=, t=.
SdpResult<std::string> session_header(const LocalSdp& local) {
  auto addr = sdp_text::address_from_literal(local.address);
  if (!addr) return sdp_error(SdpErrc::kBadLocal, "local address is not an IP literal");
  if (local.rtp_port < 1 || local.rtp_port > 65535)
    return sdp_error(SdpErrc::kBadLocal, "local RTP port not in 1-65535");
  if (!is_clean_token(local.username) || !is_clean_text(local.session_name))
    return sdp_error(SdpErrc::kBadLocal, "bad local username or session name");
  if (local.ptime_ms < 10 || local.ptime_ms > 200)
    return sdp_error(SdpErrc::kBadLocal, "local ptime not in 10-200");
  std::string fam(family_name(addr->family));
  std::string out;
  out.reserve(512);
  out += "v=0\r\n";
  out += "o=" + local.username + " " + std::to_string(local.session_id) + " " +
         std::to_string(local.session_version) + " IN " + fam + " " + local.address + "\r\n";
  // s= must not be empty (RFC 8866 5.3); "-" is the conventional blank.
  out += "s=" + (local.session_name.empty() ? std::string("-") : local.session_name) + "\r\n";
  out += "c=IN " + fam + " " + local.address + "\r\n";
  out += "t=0 0\r\n";
  return out;
}

void append_rtpmap(std::string& out, int pt, std::string_view name, int rate) {
  out += "a=rtpmap:" + std::to_string(pt) + " ";
  out += name;
  out += "/" + std::to_string(rate) + "\r\n";
}

void append_tail(std::string& out, int te_pt, int ptime_ms, MediaDirection direction) {
  // 0-15 are the DTMF keys, 16 is flash: what RFC 4733 peers commonly offer.
  if (te_pt >= 0) out += "a=fmtp:" + std::to_string(te_pt) + " 0-16\r\n";
  out += "a=ptime:" + std::to_string(ptime_ms) + "\r\n";
  out += "a=";
  out += to_string(direction);
  out += "\r\n";
}

bool valid_pt(int pt) { return pt >= 0 && pt <= 127; }

void append_crypto(std::string& out, const CryptoAttribute& c) {
  std::string value = format_crypto(c);
  out += "a=crypto:";
  out += value;
  out += "\r\n";
  OPENSSL_cleanse(value.data(), value.size());
}

}  // namespace

SdpResult<std::string> build_answer(const NegotiatedAudio& negotiated, const LocalSdp& local,
                                    std::optional<MediaDirection> direction) {
  auto header = session_header(local);
  if (!header) return header.error();
  if (negotiated.media_index >= negotiated.media_lines.size() ||
      !valid_pt(negotiated.payload_type) || negotiated.telephone_event_pt > 127 ||
      negotiated.telephone_event_pt == negotiated.payload_type || negotiated.codec_name.empty())
    return sdp_error(SdpErrc::kBadLocal, "inconsistent negotiation result");
  std::string out = std::move(header).value();
  for (std::size_t i = 0; i < negotiated.media_lines.size(); ++i) {
    const MediaLineEcho& line = negotiated.media_lines[i];
    if (i != negotiated.media_index) {
      if (!is_clean_token(line.media) || !is_clean_token(line.proto) ||
          !is_clean_token(line.first_format))
        return sdp_error(SdpErrc::kBadLocal, "bad media line to reject");
      out += "m=" + line.media + " 0 " + line.proto + " " + line.first_format + "\r\n";
      continue;
    }
    int te = negotiated.telephone_event_pt;
    if (negotiated.proto != "RTP/AVP" && negotiated.proto != "RTP/SAVP")
      return sdp_error(SdpErrc::kBadLocal, "negotiated profile is not RTP/AVP or RTP/SAVP");
    const CryptoAttribute* ours = nullptr;
    if (negotiated.srtp()) {
      for (const auto& c : local.crypto)
        if (c.suite == negotiated.remote_crypto->suite) ours = &c;
      if (!ours) return sdp_error(SdpErrc::kBadLocal, "no local key for the chosen SRTP suite");
    } else if (negotiated.proto == "RTP/SAVP") {
      return sdp_error(SdpErrc::kBadLocal, "RTP/SAVP without a negotiated key");
    }
    out += "m=audio " + std::to_string(local.rtp_port) + " " + negotiated.proto + " " +
           std::to_string(negotiated.payload_type);
    if (te >= 0) out += " " + std::to_string(te);
    out += "\r\n";
    append_rtpmap(out, negotiated.payload_type, negotiated.codec_name, negotiated.clock_rate);
    if (te >= 0) append_rtpmap(out, te, kTelephoneEvent, negotiated.clock_rate);
    if (ours) {
      CryptoAttribute answer = *ours;
      answer.tag = negotiated.remote_crypto->tag;  // the offerer's tag (RFC 4568 5.1.2)
      append_crypto(out, answer);
    }
    append_tail(out, te, local.ptime_ms, direction.value_or(mirror(negotiated.remote_direction)));
  }
  return out;
}

int offered_payload_type(std::span<const CodecSpec> codecs, std::size_t index) {
  int next_dynamic = kDefaultTelephoneEventPt;
  for (std::size_t i = 0; i < codecs.size(); ++i) {
    int pt = codecs[i].static_pt >= 0 ? codecs[i].static_pt : next_dynamic++;
    if (i == index) return pt;
  }
  return -1;
}

SdpResult<std::string> build_offer(const LocalSdp& local, std::span<const CodecSpec> codecs,
                                   MediaDirection direction) {
  auto header = session_header(local);
  if (!header) return header.error();
  if (codecs.empty() || codecs.size() > 16)
    return sdp_error(SdpErrc::kBadLocal, "offer needs 1-16 codecs");
  for (const auto& c : codecs) {
    if (!is_clean_token(c.name) || c.static_pt > 95 || c.clock_rate < 1 || c.clock_rate > 1000000)
      return sdp_error(SdpErrc::kBadLocal, "bad codec in offer list");
  }
  if (local.savp && local.crypto.empty())
    return sdp_error(SdpErrc::kBadLocal, "RTP/SAVP offer without a key");
  if (local.crypto.size() > 8) return sdp_error(SdpErrc::kBadLocal, "too many SRTP keys");
  std::string out = std::move(header).value();
  out += "m=audio " + std::to_string(local.rtp_port) + (local.savp ? " RTP/SAVP" : " RTP/AVP");
  for (std::size_t i = 0; i < codecs.size(); ++i)
    out += " " + std::to_string(offered_payload_type(codecs, i));
  out += "\r\n";
  int te_pt = -1;
  for (std::size_t i = 0; i < codecs.size(); ++i) {
    int pt = offered_payload_type(codecs, i);
    append_rtpmap(out, pt, codecs[i].name, codecs[i].clock_rate);
    if (te_pt < 0 && ascii_iequals(codecs[i].name, kTelephoneEvent)) te_pt = pt;
  }
  for (const auto& c : local.crypto) append_crypto(out, c);
  append_tail(out, te_pt, local.ptime_ms, direction);
  return out;
}

}  // namespace atende::sip
