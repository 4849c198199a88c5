// libFuzzer: compound RTCP parser on arbitrary bytes, then the writers with parsed values.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rtp/rtcp.h"

using namespace atende::rtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  RtcpCompound c;
  const RtcpError err = parse_rtcp({data, size}, c);
  if (c.report_count > kMaxReportBlocks) abort();
  if (err != RtcpError::kOk) return 0;

  // Whatever we parsed must be writable and parse back.
  std::array<uint8_t, 600> buf{};
  const ReportBlock* block = c.report_count ? &c.reports[0] : nullptr;
  const std::string_view cname(reinterpret_cast<const char*>(data), size < 300 ? size : 300);
  const size_t n = c.has_sender_report
                       ? write_sender_report(buf, c.sender_ssrc, c.sender, block, cname)
                       : write_receiver_report(buf, c.sender_ssrc, block, cname);
  if (n == 0 || n > buf.size() || n % 4 != 0) abort();
  RtcpCompound again;
  if (parse_rtcp({buf.data(), n}, again) != RtcpError::kOk) abort();
  if (again.sender_ssrc != c.sender_ssrc || again.report_count != (block ? 1u : 0u)) abort();
  return 0;
}
