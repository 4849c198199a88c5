// libFuzzer: RTP header parser on arbitrary bytes; a parsed packet's views must stay inside
// the input, and re-writing the header must parse back to the same fields.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "rtp/rtp_packet.h"

using namespace atende::rtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  RtpPacket pkt;
  if (parse_rtp(in, pkt) != RtpError::kOk) return 0;
  const uint8_t* end = data + size;
  if (pkt.payload.data() < data || pkt.payload.data() + pkt.payload.size() > end) abort();
  if (pkt.extension.size() &&
      (pkt.extension.data() < data || pkt.extension.data() + pkt.extension.size() > end))
    abort();
  if (pkt.csrc_count > kMaxCsrc) abort();

  std::vector<uint8_t> out(kRtpHeaderSize + pkt.payload.size());
  RtpHeader h{pkt.marker, pkt.payload_type, pkt.sequence, pkt.timestamp, pkt.ssrc};
  if (write_rtp(out, h, pkt.payload) != out.size()) abort();
  RtpPacket again;
  if (parse_rtp(out, again) != RtpError::kOk) abort();
  if (again.sequence != pkt.sequence || again.timestamp != pkt.timestamp ||
      again.ssrc != pkt.ssrc || again.payload.size() != pkt.payload.size())
    abort();
  (void)looks_like_rtcp(in);
  return 0;
}
