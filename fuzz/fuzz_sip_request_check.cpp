// libFuzzer: URI/Contact checks and check_request on arbitrary bytes. Beyond "no crash":
// anything check_sip_uri() accepts is printable ASCII with a sip/sips scheme, and the
// verdict is always one of the statuses we document.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sip/request_check.h"

using namespace atende::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  UriCheck uri = check_sip_uri(text);
  if (uri.ok) {
    for (char c : text)
      if (c <= 0x20 || c >= 0x7f) std::abort();
    std::string_view scheme = text.substr(0, text.find(':'));
    if (scheme.size() != 3 && scheme.size() != 4) std::abort();
  }
  (void)check_contact(text);

  // Split the input into request fields so the whole of check_request() gets exercised.
  RequestSummary r;
  std::string_view parts[4];
  std::string_view rest = text;
  for (auto& p : parts) {
    std::size_t nl = rest.find('\n');
    p = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  }
  r.method = parts[0];
  r.cseq_method = size % 2 ? parts[0] : parts[3];
  r.request_uri = parts[1];
  if (!parts[2].empty()) r.contacts.push_back(parts[2]);
  if (!rest.empty()) r.contacts.push_back(rest);
  uint8_t b = size ? data[0] : 0;
  r.via_count = b % 40;
  r.max_forwards = static_cast<int>(b) - 2;
  r.cseq_number = size > 1 ? (uint64_t{data[1]} << 28) : 1;
  r.content_length = size > 2 ? static_cast<int64_t>(data[2]) * 100 - 1 : -1;
  r.body_size = size * 10;
  RequestVerdict v = check_request(r);
  if (!(v.status == 0 || v.status == 400 || v.status == 413 || v.status == 416 || v.status == 483))
    std::abort();
  if (!v.ok() && v.reason.empty()) std::abort();
  return 0;
}
