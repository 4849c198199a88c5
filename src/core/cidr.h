// IP addresses and CIDR prefixes (IPv4 and IPv6) for the SIP access rules (docs/security.md).
// IPv4 and IPv6 are kept apart: 10.0.0.0/8 never matches an IPv6 address and ::/0 never
// matches an IPv4 one. An IPv4-mapped IPv6 address (::ffff:10.1.2.3, what a dual-stack
// socket reports for an IPv4 peer) is the IPv4 address.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

struct sockaddr;

namespace atende {

struct IpAddress {
  bool v6 = false;
  // IPv4: bytes[0..3]; IPv6: all 16, network order. Unused bytes are zero.
  std::array<uint8_t, 16> bytes{};

  int bits() const { return v6 ? 128 : 32; }
  bool operator==(const IpAddress&) const = default;
  std::string str() const;
};

struct IpAddressHash {
  size_t operator()(const IpAddress& a) const;
};

// "10.1.2.3", "::1", "fe80::1" (no zone, no brackets). nullopt when it is not an address.
std::optional<IpAddress> parse_ip(std::string_view text);
// From a socket address (AF_INET or AF_INET6; IPv4-mapped IPv6 becomes IPv4).
std::optional<IpAddress> ip_from_sockaddr(const struct sockaddr* sa);

struct Cidr {
  IpAddress base;  // host bits zero
  int prefix = 0;  // 0..32 for IPv4, 0..128 for IPv6

  bool contains(const IpAddress& a) const;
  std::string str() const;
  bool operator==(const Cidr&) const = default;
};

// "10.0.0.0/8", "fc00::/7", or a bare address (a /32 or /128). Host bits set below the
// prefix ("10.1.0.0/8") are an error: it is usually a typo. `error` says why on failure.
std::optional<Cidr> parse_cidr(std::string_view text, std::string* error = nullptr);

// A set of prefixes with a lookup cost bounded by the number of distinct prefix lengths
// (one hash lookup per length), not by the number of entries.
class CidrSet {
 public:
  CidrSet() = default;
  explicit CidrSet(const std::vector<Cidr>& list);
  void add(const Cidr& c);
  bool contains(const IpAddress& a) const;
  bool empty() const { return list_.empty(); }
  const std::vector<Cidr>& list() const { return list_; }

 private:
  struct Bucket {
    bool v6;
    int prefix;
    std::unordered_set<IpAddress, IpAddressHash> bases;
  };
  std::vector<Cidr> list_;
  std::vector<Bucket> buckets_;  // longest prefix first
};

// Loopback and private ranges: 127/8, 10/8, 172.16/12, 192.168/16, 169.254/16 (IPv4
// link-local), ::1, fc00::/7 (unique local), fe80::/10 (IPv6 link-local).
std::vector<Cidr> private_ranges();
// The CIDRs as "a, b, c".
std::string cidr_list_str(const std::vector<Cidr>& list);

}  // namespace atende
