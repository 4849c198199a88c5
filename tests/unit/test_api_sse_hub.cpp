// The event-stream hub on real TCP sockets: the head and the first event, broadcasts to
// every client, pings, a client that stops reading is dropped (and counted) while the others
// keep receiving, and the client cap.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "api/sse_hub.h"

namespace atende::api {
namespace {

// A connected TCP pair on loopback: `client` is ours, `server` goes to the hub.
struct Pair {
  int client = -1;
  int server = -1;
};

Pair connect_pair(int rcvbuf = 0) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::listen(listener, 4), 0);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  Pair p;
  p.client = ::socket(AF_INET, SOCK_STREAM, 0);
  if (rcvbuf) ::setsockopt(p.client, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  EXPECT_EQ(::connect(p.client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  p.server = ::accept(listener, nullptr, nullptr);
  ::close(listener);
  return p;
}

// Reads until `needle` has arrived (or the peer closed / 10 s passed); everything read.
std::string read_until(int fd, const std::string& needle) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

// True once the peer closed (reads drain whatever is still queued).
bool closed_by_peer(int fd) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[65536];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
  return false;
}

TEST(SseHub, HeadFirstEventBroadcastsAndPings) {
  MetricsRegistry metrics;
  SseHub hub({.ping_interval = std::chrono::milliseconds(50), .metrics = &metrics});
  hub.start();
  Pair a = connect_pair(), b = connect_pair();
  hub.adopt(a.server, [] { return std::string(R"({"type":"snapshot","calls":[]})"); });
  hub.adopt(b.server, [] { return std::string(R"({"type":"snapshot","calls":[1]})"); });
  const std::string head = read_until(a.client, "\n\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream\r\n"), std::string::npos);
  EXPECT_NE(read_until(a.client, R"(data: {"type":"snapshot","calls":[]})"
                                 "\n\n"),
            "");
  EXPECT_NE(read_until(b.client, R"({"calls":[1]})").size(), 0u);

  hub.post([&hub] { hub.broadcast(R"({"type":"call.started"})"); });
  EXPECT_NE(read_until(a.client, "data: {\"type\":\"call.started\"}\n\n").find("call.started"),
            std::string::npos);
  EXPECT_NE(read_until(b.client, "call.started").find("call.started"), std::string::npos);
  EXPECT_NE(read_until(a.client, ": ping\n\n").find(": ping"), std::string::npos);
  EXPECT_EQ(hub.clients(), 2u);
  ::close(a.client);  // a client that leaves is noticed and removed
  for (int i = 0; i < 1000 && hub.clients() != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(hub.clients(), 1u);
  hub.stop();
  EXPECT_TRUE(closed_by_peer(b.client));
  ::close(b.client);
}

TEST(SseHub, AClientThatDoesNotReadIsDroppedAndCounted) {
  MetricsRegistry metrics;
  SseHub hub({.max_queued_bytes = 64 * 1024, .metrics = &metrics});
  hub.start();
  Pair slow = connect_pair(/*rcvbuf=*/4096), fast = connect_pair();
  hub.adopt(slow.server, [] { return std::string("{}"); });
  hub.adopt(fast.server, [] { return std::string("{}"); });
  const std::string pad(8000, 'x');
  // Far more than the socket buffers and the 64 KiB queue hold; the fast client reads each
  // event before the next is sent, the slow one reads nothing.
  for (int i = 0; i < 400; ++i) {
    const std::string event = "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + pad + "\"}";
    hub.post([&hub, event] { hub.broadcast(event); });
    const std::string mark = "{\"n\":" + std::to_string(i) + ",";
    ASSERT_NE(read_until(fast.client, mark).find(mark), std::string::npos) << i;
  }
  hub.post([&hub] { hub.broadcast(R"({"last":true})"); });
  EXPECT_NE(read_until(fast.client, R"({"last":true})").find(R"({"last":true})"),
            std::string::npos);
  EXPECT_TRUE(closed_by_peer(slow.client));
  EXPECT_NE(metrics.render().find("atende_sse_dropped_clients_total{reason=\"slow\"} 1"),
            std::string::npos)
      << metrics.render();
  hub.stop();
  ::close(slow.client);
  ::close(fast.client);
}

TEST(SseHub, CapOnClients) {
  SseHub hub({.max_clients = 1});
  EXPECT_FALSE(hub.can_accept());  // not started
  hub.start();
  EXPECT_TRUE(hub.can_accept());
  Pair a = connect_pair();
  hub.adopt(a.server, [] { return std::string("{}"); });
  read_until(a.client, "{}");
  EXPECT_FALSE(hub.can_accept());
  hub.stop();
  ::close(a.client);
}

}  // namespace
}  // namespace atende::api
