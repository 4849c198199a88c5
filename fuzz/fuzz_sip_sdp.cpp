// libFuzzer: parse -> negotiate -> answer on arbitrary bytes, and read the result back.
// Invariants checked beyond "no crash": an answer we build must parse with our own parser
// and keep the offer's m= line count, and the negotiated values must be in range. The
// a=crypto parser (SDES keys, sdp_crypto.h) runs on the whole input too, and every SRTP
// policy negotiates: an SRTP answer must carry our key under the offerer's tag and read back
// as SRTP; "required" never yields plain RTP.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "sip/sdp.h"
#include "sip/sdp_build.h"
#include "sip/sdp_crypto.h"
#include "sip/sdp_negotiate.h"

using namespace atende::sip;

namespace {

void check_srtp(const SessionDescription& offer, std::span<const CodecSpec> codecs) {
  for (SrtpPolicy policy : {SrtpPolicy::kOptional, SrtpPolicy::kRequired}) {
    auto negotiated = negotiate_offer(offer, codecs, policy);
    if (!negotiated) continue;
    const NegotiatedAudio& n = negotiated.value();
    if (policy == SrtpPolicy::kRequired && !n.srtp()) std::abort();
    if (n.proto == "RTP/SAVP" && !n.srtp()) std::abort();
    LocalSdp local;
    local.address = "192.0.2.1";
    local.rtp_port = 4000;
    if (n.srtp()) {
      CryptoAttribute ours;  // a fixed key: the fuzzer needs no entropy
      ours.suite = n.remote_crypto->suite;
      ours.key_salt.fill(0x42);
      local.crypto = {ours};
    }
    auto answer = build_answer(n, local);
    if (!answer) std::abort();
    auto reparsed = parse_sdp(answer.value());
    if (!reparsed || reparsed.value().media.size() != offer.media.size()) std::abort();
    if (!n.srtp()) continue;
    // Read back as the offerer would: our answer names their tag with our key.
    std::vector<CryptoAttribute> offered = {*n.remote_crypto};
    auto back = negotiate_answer(reparsed.value(), codecs, offer.media.size(), offered, policy);
    if (!back || !back.value().srtp() || back.value().remote_crypto->tag != n.remote_crypto->tag ||
        back.value().remote_crypto->key_salt != local.crypto[0].key_salt)
      std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  // The attribute parser alone, on the raw bytes: a well-formed result must format back to
  // something that parses to the same attribute.
  if (size < 600) {
    CryptoParseResult c = parse_crypto(body);
    if (c.status == CryptoParse::kOk) {
      CryptoParseResult again = parse_crypto(format_crypto(c.attribute));
      if (again.status != CryptoParse::kOk || !(again.attribute == c.attribute)) std::abort();
    }
  }
  auto parsed = parse_sdp(body);
  if (!parsed) return 0;
  static const auto codecs = default_codecs();
  check_srtp(parsed.value(), codecs);
  auto negotiated = negotiate_offer(parsed.value(), codecs);
  auto as_answer = negotiate_answer(parsed.value(), codecs, parsed.value().media.size());
  if (!negotiated) return 0;
  const NegotiatedAudio& n = negotiated.value();
  if (n.payload_type < 0 || n.payload_type > 127 || n.telephone_event_pt > 127 ||
      n.remote_port < 1 || n.remote_port > 65535 || n.media_index >= n.media_lines.size())
    std::abort();
  if (!as_answer) std::abort();  // same rules: whatever negotiates as an offer does as an answer

  LocalSdp local;
  local.address = "192.0.2.1";
  local.rtp_port = 4000;
  auto answer = build_answer(n, local);
  if (!answer) std::abort();
  auto reparsed = parse_sdp(answer.value());
  if (!reparsed || reparsed.value().media.size() != parsed.value().media.size()) std::abort();
  auto again = negotiate_offer(reparsed.value(), codecs);
  if (!again || again.value().codec_name != n.codec_name ||
      again.value().payload_type != n.payload_type)
    std::abort();
  return 0;
}
