// The HTTP API over a real socket: every route, error mapping, and hostile clients.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "api/api_routes.h"
#include "api/http_server.h"

namespace atende::api {
namespace {

namespace fs = std::filesystem;

// Blocking POSIX client: send bytes, optionally half-close, read until EOF. A 10 s receive
// timeout only guards against a hung test; no assertion depends on timing.
struct RawReply {
  std::string data;
  bool eof = false;  // server closed the connection (vs. our guard timeout)
};

int connect_to(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may close early on hostile input
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

RawReply read_to_eof(int fd) {
  RawReply r;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      r.data.append(buf, static_cast<size_t>(n));
      continue;
    }
    r.eof = n == 0 || errno == ECONNRESET;
    break;
  }
  return r;
}

RawReply roundtrip(uint16_t port, std::string_view bytes, bool half_close = true) {
  const int fd = connect_to(port);
  EXPECT_GE(fd, 0);
  if (fd < 0) return {};
  send_all(fd, bytes);
  if (half_close) ::shutdown(fd, SHUT_WR);
  RawReply r = read_to_eof(fd);
  ::close(fd);
  return r;
}

struct Reply {
  int status = 0;
  std::string head;
  std::string body;
};

Reply parse_reply(const std::string& raw) {
  Reply r;
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || raw.size() < 12) return r;
  r.status = std::stoi(raw.substr(9, 3));
  const size_t end = raw.find("\r\n\r\n");
  r.head = raw.substr(0, end);
  if (end != std::string::npos) r.body = raw.substr(end + 4);
  return r;
}

Reply get(uint16_t port, const std::string& target, const std::string& method = "GET") {
  return parse_reply(
      roundtrip(port, method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
          .data);
}

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("atende-api-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = std::make_unique<store::CallStore>(
        store::CallStoreOptions{.path = (dir_ / "calls.db").string()});
    calls_total_ = &metrics_.counter("atende_calls_total", "Calls.", {{"result", "answered"}});
  }
  void TearDown() override {
    server_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  void start(HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(options);
    install_api_routes(*server_, {.store = store_.get(), .metrics = &metrics_, .ready = [this] {
                                    return ready_.load();
                                  }});
    server_->start("127.0.0.1", 0);
    ASSERT_NE(server_->port(), 0);
  }
  uint16_t port() const { return server_->port(); }

  void add_call(const std::string& id, int64_t at_ms) {
    store_->call_started({.id = id,
                          .direction = store::CallDirection::kInbound,
                          .from = "sip:a@b",
                          .to = "sip:c@d",
                          .leg_kind = "sip",
                          .flow = "menu",
                          .at = store::from_unix_ms(at_ms)});
  }

  fs::path dir_;
  std::unique_ptr<store::CallStore> store_;
  MetricsRegistry metrics_;
  Counter* calls_total_ = nullptr;
  std::atomic<bool> ready_{true};
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpApiTest, HealthAndReadiness) {
  start();
  Reply h = get(port(), "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "ok\n");
  EXPECT_EQ(get(port(), "/readyz").status, 200);
  ready_ = false;
  Reply r = get(port(), "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "not ready\n");
}

TEST_F(HttpApiTest, MetricsInPrometheusTextFormat) {
  start();
  calls_total_->inc(7);
  Reply m = get(port(), "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.head.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << m.head;
  EXPECT_NE(m.body.find("atende_calls_total{result=\"answered\"} 7\n"), std::string::npos);
}

TEST_F(HttpApiTest, ListsCallsNewestFirstWithPaging) {
  for (int i = 0; i < 5; ++i) add_call("c" + std::to_string(i), 1000 * i);
  store_->flush();
  start();
  Reply all = get(port(), "/api/calls");
  ASSERT_EQ(all.status, 200);
  EXPECT_NE(all.head.find("application/json"), std::string::npos);
  auto j = nlohmann::json::parse(all.body);
  ASSERT_EQ(j.size(), 5u);
  EXPECT_EQ(j[0]["id"], "c4");
  EXPECT_EQ(j[4]["id"], "c0");
  auto page = nlohmann::json::parse(get(port(), "/api/calls?limit=2&offset=1").body);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0]["id"], "c3");
  EXPECT_EQ(nlohmann::json::parse(get(port(), "/api/calls?offset=99").body).size(), 0u);
}

TEST_F(HttpApiTest, RejectsMalformedQueries) {
  start();
  for (const char* target : {"/api/calls?limit=0", "/api/calls?limit=1001", "/api/calls?limit=abc",
                             "/api/calls?limit=5x", "/api/calls?limit=-1", "/api/calls?limit=",
                             "/api/calls?limit=99999999999999999999", "/api/calls?offset=-5",
                             "/api/calls?limit=%zz", "/api/calls?limit=%4"}) {
    Reply r = get(port(), target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_TRUE(nlohmann::json::parse(r.body).contains("error")) << target;
  }
  // An unknown parameter is refused, naming it (docs/api.md): a misspelt filter must not
  // silently list every call.
  const Reply unknown = get(port(), "/api/calls?limit=1000&unknown=1");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("unknown"), std::string::npos) << unknown.body;
  EXPECT_EQ(get(port(), "/api/calls?limit=%31").status, 200);  // "%31" is "1"
}

TEST_F(HttpApiTest, GetsOneCallWithEventsOr404) {
  add_call("a/b c", 0);
  store_->add_event("a/b c", store::from_unix_ms(5), "dtmf", "7");
  store_->flush();
  start();
  Reply r = get(port(), "/api/calls/a%2Fb%20c");
  ASSERT_EQ(r.status, 200);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["id"], "a/b c");
  ASSERT_EQ(j["events"].size(), 1u);
  EXPECT_EQ(j["events"][0]["detail"], "7");

  Reply missing = get(port(), "/api/calls/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing.body)["error"], "call not found");
  EXPECT_EQ(get(port(), "/api/calls/" + std::string(1000, 'x')).status, 404);
  EXPECT_EQ(get(port(), "/api/calls/%G1").status, 400);
}

TEST_F(HttpApiTest, InvalidUtf8FromTheNetworkStillSerialises) {
  store::CallStart call;
  call.id = "u";
  call.from = "sip:\xff\xfe@x";
  store_->call_started(call);
  store_->flush();
  start();
  Reply r = get(port(), "/api/calls/u");
  ASSERT_EQ(r.status, 200);
  EXPECT_NO_THROW(nlohmann::json::parse(r.body));
}

TEST_F(HttpApiTest, UnknownPathIs404AndWrongMethodIs405) {
  start();
  Reply nf = get(port(), "/nope");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nlohmann::json::parse(nf.body)["error"], "not found");
  Reply na = get(port(), "/healthz", "POST");
  EXPECT_EQ(na.status, 405);
  EXPECT_NE(na.head.find("Allow: GET"), std::string::npos) << na.head;
  EXPECT_EQ(get(port(), "/api/calls/x", "DELETE").status, 405);
}

TEST_F(HttpApiTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  RawReply r = roundtrip(port(),
                         "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                         "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"
                         "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                         /*half_close=*/false);
  EXPECT_TRUE(r.eof);
  size_t count = 0;
  for (size_t at = r.data.find("HTTP/1.1 200"); at != std::string::npos;
       at = r.data.find("HTTP/1.1 200", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 3u) << r.data;
}

TEST_F(HttpApiTest, OversizedHeaderAndBodyAreRefused) {
  start();
  const std::string big(20 * 1024, 'a');
  Reply h = parse_reply(
      roundtrip(port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n").data);
  EXPECT_EQ(h.status, 431);
  Reply b = parse_reply(
      roundtrip(port(), "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\nxx")
          .data);
  EXPECT_EQ(b.status, 413);
  Reply t = parse_reply(roundtrip(port(), "GET /" + big + " HTTP/1.1\r\nHost: x\r\n\r\n").data);
  EXPECT_EQ(t.status, 431);
  EXPECT_EQ(get(port(), "/healthz").status, 200);
}

TEST_F(HttpApiTest, GarbageGets400OrCloseAndServerSurvives) {
  start();
  Reply g = parse_reply(
      roundtrip(port(), std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03", 10)).data);
  EXPECT_EQ(g.status, 400);
  EXPECT_EQ(parse_reply(roundtrip(port(), "GET /healthz HTTP/9.9\r\n\r\n").data).status, 400);
  EXPECT_EQ(parse_reply(roundtrip(port(), "GET healthz HTTP/1.1\r\nHost: x\r\n\r\n").data).status,
            400);
  EXPECT_EQ(
      parse_reply(roundtrip(port(), "GET /healthz HTTP/1.1\r\nContent-Length: -1\r\n\r\n").data)
          .status,
      400);

  std::mt19937 rng(1234);
  const std::string seeds[] = {"GET /api/calls?limit=1 HTTP/1.1\r\nHost: x\r\n\r\n",
                               "POST /api/calls HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "5\r\nhello\r\n0\r\n\r\n"};
  for (int i = 0; i < 300; ++i) {
    std::string msg = seeds[i % 2];
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) msg[rng() % msg.size()] = static_cast<char>(rng() % 256);
    const RawReply r = roundtrip(port(), msg);
    EXPECT_TRUE(r.eof) << "server kept a broken half-closed connection open";
  }
  EXPECT_EQ(get(port(), "/healthz").status, 200);
}

TEST_F(HttpApiTest, HalfOpenAndSlowClientsAreDroppedAfterTheDeadline) {
  start({.request_timeout = std::chrono::milliseconds(300)});
  const int idle = connect_to(port());
  const int partial = connect_to(port());
  ASSERT_GE(idle, 0);
  ASSERT_GE(partial, 0);
  send_all(partial, "GET /healthz HTTP/1.1\r\nHost: x\r\n");  // never finishes the headers
  // Other clients are served while those two hang.
  EXPECT_EQ(get(port(), "/healthz").status, 200);
  const RawReply a = read_to_eof(idle);
  const RawReply b = read_to_eof(partial);
  EXPECT_TRUE(a.eof);
  EXPECT_TRUE(b.eof);
  EXPECT_TRUE(a.data.empty());
  EXPECT_TRUE(b.data.empty());
  ::close(idle);
  ::close(partial);
}

TEST_F(HttpApiTest, ConnectionsBeyondTheCapAreClosed) {
  start({.max_connections = 2});
  const int a = connect_to(port());
  const int b = connect_to(port());
  for (int i = 0; i < 1000 && server_->open_connections() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(server_->open_connections(), 2);
  const RawReply over = roundtrip(port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(over.eof);
  EXPECT_TRUE(over.data.empty());
  ::close(a);
  ::close(b);
  for (int i = 0; i < 1000 && server_->open_connections() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(get(port(), "/healthz").status, 200);
}

TEST_F(HttpApiTest, StopClosesOpenConnectionsAndPortInUseIsAClearError) {
  start();
  HttpServer second;
  try {
    second.start("127.0.0.1", port());
    FAIL() << "second server bound a port in use";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(std::to_string(port())), std::string::npos) << msg;
    EXPECT_NE(msg.find("in use"), std::string::npos) << msg;
  }
  const int idle = connect_to(port());
  for (int i = 0; i < 1000 && server_->open_connections() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  server_->stop();
  EXPECT_EQ(server_->open_connections(), 0);
  EXPECT_TRUE(read_to_eof(idle).eof);
  ::close(idle);
  server_->stop();  // idempotent
}

TEST(HttpServerRoutes, RouteAfterStartIsRefused) {
  HttpServer s;
  s.route("GET", "/x", [](const HttpRequest&) { return HttpResponse::text(200, "x"); });
  s.start("127.0.0.1", 0);
  EXPECT_THROW(s.route("GET", "/y", nullptr), std::logic_error);
  EXPECT_EQ(get(s.port(), "/x").body, "x");
}

TEST(HttpServerRoutes, HandlerExceptionBecomes500) {
  HttpServer s;
  s.route("GET", "/boom",
          [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("x"); });
  s.start("localhost", 0);
  Reply r = get(s.port(), "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "internal error");
}

}  // namespace
}  // namespace atende::api
