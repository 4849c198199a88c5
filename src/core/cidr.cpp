#include "core/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace atende {
namespace {

void mask_to(IpAddress& a, int prefix) {
  const int n = a.v6 ? 16 : 4;
  for (int i = 0; i < n; ++i) {
    const int keep = std::clamp(prefix - i * 8, 0, 8);
    a.bytes[i] &= keep == 8 ? 0xff : static_cast<uint8_t>(0xff00 >> keep);
  }
}

}  // namespace

std::string IpAddress::str() const {
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf)) return "?";
  return buf;
}

size_t IpAddressHash::operator()(const IpAddress& a) const {
  uint64_t hi, lo;
  std::memcpy(&hi, a.bytes.data(), 8);
  std::memcpy(&lo, a.bytes.data() + 8, 8);
  uint64_t h = hi * 0x9E3779B97F4A7C15ull ^ (lo + 0x632BE59BD9B4E019ull + (a.v6 ? 1 : 0));
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return static_cast<size_t>(h ^ (h >> 32));
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = 0;
  IpAddress a;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, a.bytes.data()) != 1) return std::nullopt;
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.bytes.data(), kMapped, 12) == 0) {
    std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
    std::memset(a.bytes.data() + 4, 0, 12);
    return a;
  }
  a.v6 = true;
  return a;
}

std::optional<IpAddress> ip_from_sockaddr(const struct sockaddr* sa) {
  if (!sa) return std::nullopt;
  IpAddress a;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(a.bytes.data(), &in->sin_addr, 4);
    return a;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      std::memcpy(a.bytes.data(), in6->sin6_addr.s6_addr + 12, 4);
      return a;
    }
    a.v6 = true;
    std::memcpy(a.bytes.data(), in6->sin6_addr.s6_addr, 16);
    return a;
  }
  return std::nullopt;
}

bool Cidr::contains(const IpAddress& a) const {
  if (a.v6 != base.v6) return false;
  IpAddress m = a;
  mask_to(m, prefix);
  return m == base;
}

std::string Cidr::str() const { return base.str() + "/" + std::to_string(prefix); }

std::optional<Cidr> parse_cidr(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Cidr> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  const auto slash = text.find('/');
  const auto addr_text = text.substr(0, slash);
  auto addr = parse_ip(addr_text);
  if (!addr) return fail("'" + std::string(addr_text) + "' is not an IPv4 or IPv6 address");
  Cidr c;
  c.base = *addr;
  c.prefix = addr->bits();
  if (slash != std::string_view::npos) {
    const auto p = text.substr(slash + 1);
    int prefix = -1;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size()) {
      return fail("'" + std::string(p) + "' is not a prefix length");
    }
    // An IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) is the IPv4 one.
    const bool mapped = !addr->v6 && addr_text.find(':') != std::string_view::npos;
    if (mapped) prefix -= 96;
    if (prefix < 0 || prefix > addr->bits()) {
      return fail("prefix /" + std::string(p) + " is out of range 0.." +
                  std::to_string(mapped ? 128 : addr->bits()));
    }
    c.prefix = prefix;
  }
  IpAddress masked = c.base;
  mask_to(masked, c.prefix);
  if (!(masked == c.base)) {
    return fail("'" + std::string(text) + "' has bits set past the prefix (did you mean " +
                masked.str() + "/" + std::to_string(c.prefix) + "?)");
  }
  return c;
}

CidrSet::CidrSet(const std::vector<Cidr>& list) {
  for (const auto& c : list) add(c);
}

void CidrSet::add(const Cidr& c) {
  list_.push_back(c);
  auto it = std::find_if(buckets_.begin(), buckets_.end(), [&](const Bucket& b) {
    return b.v6 == c.base.v6 && b.prefix == c.prefix;
  });
  if (it == buckets_.end()) {
    buckets_.push_back(Bucket{c.base.v6, c.prefix, {}});
    std::sort(buckets_.begin(), buckets_.end(),
              [](const Bucket& a, const Bucket& b) { return a.prefix > b.prefix; });
    it = std::find_if(buckets_.begin(), buckets_.end(),
                      [&](const Bucket& b) { return b.v6 == c.base.v6 && b.prefix == c.prefix; });
  }
  it->bases.insert(c.base);
}

bool CidrSet::contains(const IpAddress& a) const {
  for (const auto& b : buckets_) {
    if (b.v6 != a.v6) continue;
    IpAddress m = a;
    mask_to(m, b.prefix);
    if (b.bases.count(m)) return true;
  }
  return false;
}

std::vector<Cidr> private_ranges() {
  std::vector<Cidr> out;
  for (const char* s : {"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                        "169.254.0.0/16", "::1/128", "fc00::/7", "fe80::/10"}) {
    out.push_back(*parse_cidr(s));
  }
  return out;
}

std::string cidr_list_str(const std::vector<Cidr>& list) {
  std::string out;
  for (const auto& c : list) {
    if (!out.empty()) out += ", ";
    out += c.str();
  }
  return out.empty() ? "(none)" : out;
}

}  // namespace atende
