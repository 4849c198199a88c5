// The CIDR matcher of the SIP access rules: IPv4 and IPv6 apart, IPv4-mapped addresses as
// IPv4, prefixes of every length, host bits refused, sets with many entries.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

#include "core/cidr.h"

namespace atende {
namespace {

IpAddress ip(const char* s) {
  auto a = parse_ip(s);
  EXPECT_TRUE(a) << s;
  return a.value_or(IpAddress{});
}

Cidr cidr(const char* s) {
  std::string why;
  auto c = parse_cidr(s, &why);
  EXPECT_TRUE(c) << s << ": " << why;
  return c.value_or(Cidr{});
}

TEST(Cidr, ParsesAddresses) {
  EXPECT_FALSE(ip("10.1.2.3").v6);
  EXPECT_EQ(ip("10.1.2.3").str(), "10.1.2.3");
  EXPECT_TRUE(ip("2001:db8::1").v6);
  EXPECT_EQ(ip("2001:DB8::1").str(), "2001:db8::1");
  // An IPv4-mapped IPv6 address is the IPv4 one.
  EXPECT_EQ(ip("::ffff:10.1.2.3"), ip("10.1.2.3"));
  for (const char* bad : {"", "10.1.2", "10.1.2.256", "1.2.3.4.5", "::g", "[::1]", "fe80::1%lo",
                          "10.1.2.3 ", "localhost", "1:2:3:4:5:6:7:8:9"}) {
    EXPECT_FALSE(parse_ip(bad)) << bad;
  }
}

TEST(Cidr, MatchesIpv4Prefixes) {
  const Cidr c = cidr("172.16.0.0/12");
  EXPECT_TRUE(c.contains(ip("172.16.0.0")));
  EXPECT_TRUE(c.contains(ip("172.31.255.255")));
  EXPECT_FALSE(c.contains(ip("172.32.0.0")));
  EXPECT_FALSE(c.contains(ip("172.15.255.255")));
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(ip("203.0.113.7")));
  EXPECT_TRUE(cidr("10.1.2.3").contains(ip("10.1.2.3")));  // a bare address is a /32
  EXPECT_FALSE(cidr("10.1.2.3").contains(ip("10.1.2.4")));
  EXPECT_TRUE(cidr("10.1.2.2/31").contains(ip("10.1.2.3")));
}

TEST(Cidr, MatchesIpv6Prefixes) {
  const Cidr c = cidr("fc00::/7");
  EXPECT_TRUE(c.contains(ip("fd12:3456::1")));
  EXPECT_TRUE(c.contains(ip("fc00::")));
  EXPECT_FALSE(c.contains(ip("fe00::1")));
  EXPECT_TRUE(cidr("2001:db8::/33").contains(ip("2001:db8:7fff::1")));
  EXPECT_FALSE(cidr("2001:db8::/33").contains(ip("2001:db8:8000::1")));
  EXPECT_TRUE(cidr("::1").contains(ip("::1")));
  EXPECT_FALSE(cidr("::1").contains(ip("::2")));
}

TEST(Cidr, FamiliesNeverMix) {
  EXPECT_FALSE(cidr("::/0").contains(ip("10.0.0.1")));
  EXPECT_FALSE(cidr("0.0.0.0/0").contains(ip("::1")));
  // ::ffff:0:0/96 written as IPv6 is all of IPv4.
  EXPECT_TRUE(cidr("::ffff:0.0.0.0/96").contains(ip("192.0.2.1")));
  EXPECT_EQ(cidr("::ffff:10.0.0.0/104"), cidr("10.0.0.0/8"));
}

TEST(Cidr, RefusesBadPrefixes) {
  std::string why;
  EXPECT_FALSE(parse_cidr("10.0.0.0/33", &why));
  EXPECT_NE(why.find("out of range"), std::string::npos) << why;
  EXPECT_FALSE(parse_cidr("::/129", &why));
  EXPECT_FALSE(parse_cidr("10.0.0.0/", &why));
  EXPECT_FALSE(parse_cidr("10.0.0.0/x", &why));
  EXPECT_FALSE(parse_cidr("10.0.0.0/-1", &why));
  EXPECT_FALSE(parse_cidr("example.com/8", &why));
  EXPECT_NE(why.find("not an IPv4 or IPv6 address"), std::string::npos) << why;
  EXPECT_FALSE(parse_cidr("10.1.0.0/8", &why));  // host bits set: a typo, say so
  EXPECT_NE(why.find("did you mean 10.0.0.0/8"), std::string::npos) << why;
}

TEST(Cidr, FromSockaddr) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.9", &in.sin_addr);
  EXPECT_EQ(ip_from_sockaddr(reinterpret_cast<sockaddr*>(&in)), ip("127.0.0.9"));
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:127.0.0.9", &in6.sin6_addr);
  EXPECT_EQ(ip_from_sockaddr(reinterpret_cast<sockaddr*>(&in6)), ip("127.0.0.9"));
  inet_pton(AF_INET6, "2001:db8::5", &in6.sin6_addr);
  EXPECT_EQ(ip_from_sockaddr(reinterpret_cast<sockaddr*>(&in6)), ip("2001:db8::5"));
}

TEST(CidrSet, PrivateRangesByDefault) {
  CidrSet set(private_ranges());
  for (const char* yes : {"127.0.0.1", "127.0.0.9", "10.200.1.1", "172.20.0.1", "192.168.1.10",
                          "169.254.3.4", "::1", "fd00::5", "fe80::1"}) {
    EXPECT_TRUE(set.contains(ip(yes))) << yes;
  }
  for (const char* no :
       {"8.8.8.8", "172.32.0.1", "192.169.0.1", "11.0.0.1", "2001:db8::1", "::2", "100.64.0.1"}) {
    EXPECT_FALSE(set.contains(ip(no))) << no;
  }
}

TEST(CidrSet, ManyEntriesMatchLikeALinearScan) {
  std::vector<Cidr> list;
  for (int i = 0; i < 2000; ++i) {
    char buf[32];
    snprintf(buf, sizeof buf, "10.%d.%d.0/24", i / 256, i % 256);
    list.push_back(cidr(buf));
  }
  list.push_back(cidr("192.0.2.0/25"));
  list.push_back(cidr("2001:db8:1::/48"));
  CidrSet set(list);
  uint32_t x = 12345;
  for (int n = 0; n < 20000; ++n) {
    x = x * 1103515245 + 12345;
    IpAddress a;
    a.bytes[0] = (n % 3 == 0) ? 192 : 10;
    a.bytes[1] = (n % 3 == 0) ? 0 : (x >> 8) % 10;
    a.bytes[2] = (n % 3 == 0) ? 2 : (x >> 16) & 0xff;
    a.bytes[3] = x >> 24;
    bool linear = false;
    for (const auto& c : list) linear |= c.contains(a);
    ASSERT_EQ(set.contains(a), linear) << a.str();
  }
  EXPECT_TRUE(set.contains(ip("2001:db8:1:ffff::1")));
  EXPECT_FALSE(set.contains(ip("2001:db8:2::1")));
}

}  // namespace
}  // namespace atende
