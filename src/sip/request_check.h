// Sanity checks on the raw text of an incoming SIP request, run before sofia-sip acts on it.
// Why: Debian 12's sofia-sip answers an INVITE whose Contact is not a valid SIP URI, then
// 32 s later fails to build the BYE to it and recurses until the stack overflows (see the
// safety note in ARCHITECTURE.md). So we refuse such requests ourselves, with a 4xx.
// Pure functions over std::string_view: no sofia types, no allocation in the checks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace atende::sip {

// Outcome of a check. `error` is a fixed description (never a copy of the input), safe to log.
struct UriCheck {
  bool ok = true;
  std::string_view error;
  // A well-formed but foreign scheme (tel:, http:): a Request-URI like that gets 416.
  bool unsupported_scheme = false;
  explicit operator bool() const { return ok; }
};

inline constexpr std::size_t kMaxUriBytes = 1024;

// A sip: or sips: URI (scheme case-insensitive, nothing else) per RFC 3261 25.1: printable
// ASCII only, user/password/param/header characters as the grammar allows, %HH escapes
// well formed, host a hostname / IPv4 / [IPv6], port 1-65535, at most kMaxUriBytes.
UriCheck check_sip_uri(std::string_view uri);

// One Contact header value: `"Name" <sip:...>;params`, `<sip:...>` or `sip:...;params`.
// The URI inside must pass check_sip_uri(). `*` is not accepted here (see check_request).
UriCheck check_contact(std::string_view contact_value);

// What the signalling layer extracts from a request for check_request(). Views must stay
// valid for the duration of the call.
struct RequestSummary {
  std::string_view method;       // from the request line
  std::string_view request_uri;  // from the request line
  // Each Contact header value (or bare URI), one entry per contact (split on commas).
  std::vector<std::string_view> contacts;
  int via_count = 0;
  std::uint64_t cseq_number = 0;
  std::string_view cseq_method;
  std::int64_t content_length = -1;  // -1: header absent
  std::size_t body_size = 0;         // bytes actually received after the headers
  int max_forwards = -1;             // -1: header absent
};

struct RequestLimits {
  std::size_t max_body_bytes = 16 * 1024;  // matches SdpLimits::max_body_bytes
  int max_vias = 32;
  std::size_t max_contacts = 8;
};

// Status and reason phrase to answer with, or ok(). Reasons are fixed strings.
struct RequestVerdict {
  int status = 0;  // 0 = acceptable; else 400, 413, 416 or 483
  std::string_view reason;
  std::string_view detail;  // why, for logs (fixed text)
  bool ok() const { return status == 0; }
};

RequestVerdict check_request(const RequestSummary& request, const RequestLimits& limits = {});

}  // namespace atende::sip
