#include "sip/sdp_text.h"

#include <arpa/inet.h>

#include <cstring>

namespace atende::sip::sdp_text {

std::optional<long long> parse_int(std::string_view s, long long min, long long max) {
  // 10 digits cannot overflow long long; longer strings are absurd for any SDP field we read.
  if (s.empty() || s.size() > 10) return std::nullopt;
  long long value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < min || value > max) return std::nullopt;
  return value;
}

std::string_view next_token(std::string_view& rest) {
  // Lenient on runs of spaces: some stacks emit a trailing or doubled space.
  std::size_t start = rest.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  std::size_t end = rest.find(' ');
  std::string_view token = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  return token;
}

namespace {

bool is_literal_of(int af, std::string_view addr) {
  // inet_pton needs a NUL-terminated string; the longest IPv6 text form is 45 chars.
  char buf[64];
  if (addr.empty() || addr.size() >= sizeof(buf)) return false;
  std::memcpy(buf, addr.data(), addr.size());
  buf[addr.size()] = '\0';
  unsigned char out[16];
  return inet_pton(af, buf, out) == 1;
}

}  // namespace

std::optional<ConnectionAddress> parse_address(std::string_view addrtype, std::string_view addr) {
  if (addrtype == "IP4") {
    if (!is_literal_of(AF_INET, addr)) return std::nullopt;
    return ConnectionAddress{AddressFamily::kIp4, std::string(addr)};
  }
  if (addrtype == "IP6") {
    if (!is_literal_of(AF_INET6, addr)) return std::nullopt;
    return ConnectionAddress{AddressFamily::kIp6, std::string(addr)};
  }
  return std::nullopt;
}

std::optional<ConnectionAddress> address_from_literal(std::string_view addr) {
  return parse_address(addr.find(':') == std::string_view::npos ? "IP4" : "IP6", addr);
}

}  // namespace atende::sip::sdp_text
