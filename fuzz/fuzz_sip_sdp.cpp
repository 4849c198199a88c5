// libFuzzer: parse -> negotiate -> answer on arbitrary bytes, and read the result back.
// Invariants checked beyond "no crash": an answer we build must parse with our own parser
// and keep the offer's m= line count, and the negotiated values must be in range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sip/sdp.h"
#include "sip/sdp_build.h"
#include "sip/sdp_negotiate.h"

using namespace atende::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_sdp(body);
  if (!parsed) return 0;
  static const auto codecs = default_codecs();
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
