// The kernel filter on real loopback sockets: 127.0.0.x addresses all reach lo, so a
// "stranger" is a socket bound to 127.0.0.9 and a friend one bound to 127.0.0.1.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "sip/socket_filter.h"

namespace atende::sip {
namespace {

Cidr cidr(const char* s) { return *parse_cidr(s); }

sockaddr_in addr(const char* host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host, &a.sin_addr);
  return a;
}

int bound_udp(const char* host, int port = 0) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  auto a = addr(host, port);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << strerror(errno);
  return fd;
}

int port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// Sends one datagram from `from` to the server and says whether it arrived.
bool arrives(int server, const char* from) {
  int c = bound_udp(from);
  auto to = addr("127.0.0.1", port_of(server));
  const char msg[] = "OPTIONS sip:x SIP/2.0\r\n\r\n";
  sendto(c, msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  close(c);
  pollfd p{server, POLLIN, 0};
  if (poll(&p, 1, 200) <= 0) return false;
  char buf[256];
  recv(server, buf, sizeof buf, 0);
  return true;
}

TEST(SocketFilter, AllowListAndDenyList) {
  int s = bound_udp("127.0.0.1");
  FilterRules r;
  r.filter_lists = true;
  r.allow = {cidr("127.0.0.0/8")};
  r.deny = {cidr("127.0.0.9/32")};
  std::string err;
  ASSERT_TRUE(attach_socket_filter(s, build_socket_filter(r), &err)) << err;
  EXPECT_TRUE(arrives(s, "127.0.0.1"));
  EXPECT_TRUE(arrives(s, "127.0.0.8"));
  EXPECT_FALSE(arrives(s, "127.0.0.9"));
  // Only 127.0.0.1 allowed now: .8 is dropped too.
  r.allow = {cidr("127.0.0.1")};
  ASSERT_TRUE(attach_socket_filter(s, build_socket_filter(r), &err)) << err;
  EXPECT_TRUE(arrives(s, "127.0.0.1"));
  EXPECT_FALSE(arrives(s, "127.0.0.8"));
  EXPECT_GE(socket_drops(s), 2u);
  detach_socket_filter(s);
  EXPECT_TRUE(arrives(s, "127.0.0.9"));
  close(s);
}

TEST(SocketFilter, BlockedSourcesWithoutLists) {
  int s = bound_udp("127.0.0.1");
  FilterRules r;  // lists not applied (denied sources are answered 403 in userspace)
  r.blocked = {*parse_ip("127.0.0.7"), *parse_ip("2001:db8::7")};
  std::string err;
  ASSERT_TRUE(attach_socket_filter(s, build_socket_filter(r), &err)) << err;
  EXPECT_FALSE(arrives(s, "127.0.0.7"));
  EXPECT_TRUE(arrives(s, "127.0.0.6"));
  close(s);
}

TEST(SocketFilter, Ipv6Rules) {
  int s = socket(AF_INET6, SOCK_DGRAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(s);
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  auto send_from_v6 = [&]() {
    int c = socket(AF_INET6, SOCK_DGRAM, 0);
    sendto(c, "x", 1, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    close(c);
    pollfd p{s, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) return false;
    char buf[16];
    recv(s, buf, sizeof buf, 0);
    return true;
  };
  FilterRules r;
  r.filter_lists = true;
  r.allow = {cidr("127.0.0.0/8"), cidr("fc00::/7")};
  std::string err;
  ASSERT_TRUE(attach_socket_filter(s, build_socket_filter(r), &err)) << err;
  EXPECT_FALSE(send_from_v6());  // ::1 is not in fc00::/7
  r.allow.push_back(cidr("::1"));
  ASSERT_TRUE(attach_socket_filter(s, build_socket_filter(r), &err)) << err;
  EXPECT_TRUE(send_from_v6());
  r.blocked = {*parse_ip("::1")};
  ASSERT_TRUE(attach_socket_filter(s, build_socket_filter(r), &err)) << err;
  EXPECT_FALSE(send_from_v6());
  close(s);
}

TEST(SocketFilter, TcpListenerRefusesStrangersSyn) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  auto a = addr("127.0.0.1", 0);
  ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(l, 16), 0);
  const int port = port_of(l);
  FilterRules r;
  r.filter_lists = true;
  r.allow = {cidr("127.0.0.1")};
  std::string err;
  ASSERT_TRUE(attach_socket_filter(l, build_socket_filter(r), &err)) << err;
  auto connects = [&](const char* from) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    auto src = addr(from, 0);
    bind(c, reinterpret_cast<sockaddr*>(&src), sizeof src);
    fcntl(c, F_SETFL, O_NONBLOCK);
    auto to = addr("127.0.0.1", port);
    connect(c, reinterpret_cast<sockaddr*>(&to), sizeof to);
    pollfd p{c, POLLOUT, 0};
    bool ok = false;
    if (poll(&p, 1, 300) > 0) {
      int e = 0;
      socklen_t el = sizeof e;
      getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el);
      ok = e == 0;
    }
    close(c);
    return ok;
  };
  EXPECT_TRUE(connects("127.0.0.1"));
  EXPECT_FALSE(connects("127.0.0.9"));
  close(l);
}

TEST(SocketFilter, FindsOnlyOurListeningSockets) {
  int u = bound_udp("127.0.0.1");
  const int port = port_of(u);
  int t = socket(AF_INET, SOCK_STREAM, 0);
  auto a = addr("127.0.0.1", port);
  int one = 1;
  setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(t, 4) != 0) {
    close(t);
    close(u);
    GTEST_SKIP() << "TCP port taken";
  }
  int other = bound_udp("127.0.0.1");
  auto fds = find_listening_sockets(port);
  EXPECT_EQ(fds.size(), 2u);
  EXPECT_NE(std::find(fds.begin(), fds.end(), u), fds.end());
  EXPECT_NE(std::find(fds.begin(), fds.end(), t), fds.end());
  EXPECT_EQ(std::find(fds.begin(), fds.end(), other), fds.end());
  close(u);
  close(t);
  close(other);
}

TEST(SocketFilter, LongBlockListsAreCutToFit) {
  FilterRules r;
  r.filter_lists = true;
  r.allow = {cidr("0.0.0.0/0")};
  for (int i = 0; i < 5000; ++i) {
    IpAddress a;
    a.bytes = {198, 18, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
    r.blocked.push_back(a);
  }
  size_t left_out = 0;
  auto p = build_socket_filter(r, &left_out);
  ASSERT_FALSE(p.empty());
  EXPECT_LE(p.size(), static_cast<size_t>(BPF_MAXINSNS));
  EXPECT_GT(left_out, 0u);
  EXPECT_LT(left_out, 5000u);
  int s = bound_udp("127.0.0.1");
  std::string err;
  EXPECT_TRUE(attach_socket_filter(s, p, &err)) << err;
  close(s);
}

}  // namespace
}  // namespace atende::sip
