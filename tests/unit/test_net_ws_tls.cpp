// wss:// in net::WsConnection against a real TLS WebSocket server (Python's ssl module in
// tests/fake_openai/fake_stream_stt.py) with certificates made at test time by the openssl
// CLI: a certificate from a trusted CA for the dialled name is accepted; one the system does
// not trust, one for another name, a CA file that cannot be read and a server that does not
// speak TLS end the connection with a clear reason. And the connection's handlers never keep
// its owner alive: not after the end, not when the I/O thread stops mid-connection.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "net/ws_connection.h"
#include "test_net_tls_certs.h"
#include "test_speech_fake_stream.h"

namespace atende::net {
namespace {

using atende::testing::FakeStreamStt;
using atende::testing::TestCerts;

TestCerts& certs() {
  static TestCerts c;
  return c;
}
FakeStreamStt& fake() {  // serves the certificate for localhost and 127.0.0.1
  static FakeStreamStt f(certs().server_cert(), certs().server_key());
  return f;
}

struct Outcome {
  bool opened = false;
  std::string first_text;
  std::string why;
  bool by_us = false;
};

// Connects, closes on the first message, and waits for the end.
Outcome run(const std::string& url, const std::string& ca_file) {
  WsOptions o;
  EXPECT_EQ(parse_ws_url(url, o.url), "") << url;
  o.ca_file = ca_file;
  o.headers.emplace_back("Authorization", "Bearer sk-tls");
  IoThread io("ws-tls-test");
  auto result = std::make_shared<Outcome>();
  std::promise<void> ended;
  std::shared_ptr<WsConnection> conn;
  io.post([&] {
    WsHandlers h;
    h.on_open = [result] { result->opened = true; };
    h.on_text = [result, &conn](std::string_view text) {
      if (result->first_text.empty()) result->first_text = std::string(text);
      conn->close("done");
    };
    h.on_end = [result, &ended](const std::string& why, bool by_us) {
      result->why = why;
      result->by_us = by_us;
      ended.set_value();
    };
    conn = WsConnection::create(io.context(), std::move(o), std::move(h));
    conn->start();
  });
  EXPECT_EQ(ended.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  std::promise<void> dropped;
  io.post([&] {
    conn.reset();
    dropped.set_value();
  });
  dropped.get_future().wait();
  return *result;
}

TEST(WsTls, ATrustedCertificateForTheDialledNameIsAccepted) {
  fake().reset();
  for (const std::string host : {"localhost", "127.0.0.1"}) {
    const Outcome r = run(fake().wss_url("/v1/realtime?intent=transcription", host), certs().ca());
    EXPECT_TRUE(r.opened) << host << ": " << r.why;
    EXPECT_NE(r.first_text.find("session.created"), std::string::npos) << r.first_text;
    EXPECT_TRUE(r.by_us) << r.why;
    EXPECT_EQ(r.why, "done");
  }
  // The upgrade went through the TLS listener, headers and all.
  const auto seen = fake().received();
  ASSERT_EQ(seen.size(), 2u) << seen.dump();
  EXPECT_EQ(seen[0]["path"], "/v1/realtime?intent=transcription");
  EXPECT_EQ(seen[0]["authorization"], "Bearer sk-tls");
}

TEST(WsTls, ACertificateTheSystemDoesNotTrustIsRejected) {
  const Outcome r = run(fake().wss_url("/v1/realtime"), "");  // the system store
  EXPECT_FALSE(r.opened);
  EXPECT_FALSE(r.by_us);
  EXPECT_EQ(r.why, "tls: certificate rejected: unable to get local issuer certificate");
}

TEST(WsTls, ACertificateForAnotherNameIsRejected) {
  FakeStreamStt elsewhere(certs().elsewhere_cert(), certs().elsewhere_key());
  Outcome r = run(elsewhere.wss_url("/v1/realtime", "localhost"), certs().ca());
  EXPECT_FALSE(r.opened);
  EXPECT_EQ(r.why, "tls: certificate rejected: hostname mismatch");
  r = run(elsewhere.wss_url("/v1/realtime", "127.0.0.1"), certs().ca());
  EXPECT_FALSE(r.opened);
  EXPECT_EQ(r.why, "tls: certificate rejected: IP address mismatch");
}

TEST(WsTls, AMissingCaFileIsAClearError) {
  const Outcome r = run(fake().wss_url("/v1/realtime"), "/nonexistent/ca.pem");
  EXPECT_FALSE(r.opened);
  EXPECT_EQ(r.why.rfind("tls: cannot load the CA file /nonexistent/ca.pem", 0), 0u) << r.why;
}

// A server that answers anything with plain HTTP (a ws:// port dialled as wss://).
class PlainHttpServer {
 public:
  PlainHttpServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), n) != 0 || listen(fd_, 4) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n) != 0) {
      throw std::runtime_error("listen");
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      const char reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
      (void)!write(c, reply, sizeof reply - 1);
      close(c);
    });
  }
  ~PlainHttpServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST(WsTls, AServerWithoutTlsFailsTheHandshake) {
  PlainHttpServer plain;
  const Outcome r =
      run("wss://127.0.0.1:" + std::to_string(plain.port()) + "/v1/realtime", certs().ca());
  EXPECT_FALSE(r.opened);
  EXPECT_EQ(r.why.rfind("tls handshake: ", 0), 0u) << r.why;
}

// ---- lifetime: the handlers never keep the connection's owner alive ----

struct Owner {
  std::shared_ptr<WsConnection> ws;
};

// An owner whose connection's handlers hold it strongly: the cycle the connection breaks.
std::weak_ptr<Owner> start_owned(IoThread& io, const std::string& url, const std::string& ca,
                                 std::promise<void>* opened) {
  auto owner = std::make_shared<Owner>();
  WsOptions o;
  EXPECT_EQ(parse_ws_url(url, o.url), "");
  o.ca_file = ca;
  WsHandlers h;
  h.on_open = [owner, opened] {
    if (opened) opened->set_value();
  };
  h.on_end = [owner](const std::string&, bool) {};
  owner->ws = WsConnection::create(io.context(), std::move(o), std::move(h));
  owner->ws->start();
  return owner;
}

TEST(WsLifetime, HandlersAreDroppedWhenTheConnectionEnds) {
  IoThread io("ws-lifetime-test");
  std::promise<std::weak_ptr<Owner>> made;
  io.post([&] { made.set_value(start_owned(io, "ws://127.0.0.1:1/", "", nullptr)); });
  const auto weak = made.get_future().get();
  // Nothing listens on port 1: the connection ends, its handlers go, and the owner with them.
  bool gone = false;
  for (int i = 0; i < 1500 && !gone; ++i) {
    std::promise<bool> check;
    io.post([&] { check.set_value(weak.expired()); });
    gone = check.get_future().get();
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone);
}

TEST(WsLifetime, HandlersAreDroppedWhenTheIoThreadStopsMidConnection) {
  std::weak_ptr<Owner> weak;
  {
    IoThread io("ws-lifetime-test");
    std::promise<void> opened;
    std::promise<std::weak_ptr<Owner>> made;
    io.post([&] {
      made.set_value(start_owned(io, fake().wss_url("/v1/realtime"), certs().ca(), &opened));
    });
    weak = made.get_future().get();
    ASSERT_EQ(opened.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
    EXPECT_FALSE(weak.expired());
  }  // stopped with the connection open: its pending reads are dropped, and its handlers
  EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace atende::net
