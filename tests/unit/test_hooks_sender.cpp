// WebhookSender against real HTTP receivers on 127.0.0.1: the scripted C++ server of the
// net tests, and a Python receiver that checks signatures exactly as docs/api.md says.
// Backoff is injected (a few ms) so retries do not wait seconds; no assertion is on timing.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "hooks/signature.h"
#include "hooks/webhook_sender.h"
#include "test_net_fake_server.h"

using namespace std::chrono_literals;
using atende::testing::FakeHttpServer;
using atende::testing::ReceivedRequest;
using atende::testing::Reply;

namespace atende::hooks {
namespace {

sessions::SessionEvent event(std::string type, std::string call_id, std::string flow = "ivr") {
  sessions::SessionEvent ev;
  ev.type = std::move(type);
  ev.call_id = std::move(call_id);
  ev.at = std::chrono::system_clock::now();
  ev.json = nlohmann::json{{"flow", flow}, {"from", "sip:alice@example.com"}}.dump();
  return ev;
}

WebhookEndpointConfig endpoint(const std::string& url, const std::string& secret = "s3cret") {
  WebhookEndpointConfig ep;
  ep.url = url;
  ep.secret = secret;
  return ep;
}

WebhookSenderOptions fast_options(MetricsRegistry& metrics,
                                  std::vector<WebhookEndpointConfig> endpoints) {
  WebhookSenderOptions o;
  o.endpoints = std::move(endpoints);
  o.metrics = &metrics;
  o.backoff = [](int) { return 10ms; };
  return o;
}

// Waits for `pred`; the bound only guards against a hang (assertions are on counts).
template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 3000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// A port nothing listens on: bind one, close it.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Runs a shell command, returns its stdout.
std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  ::pclose(p);
  return out;
}

TEST(WebhookSender, PostsSignedJsonWithHeaders) {
  FakeHttpServer server([](const ReceivedRequest&, int) { return Reply::json(200, "{}"); });
  MetricsRegistry metrics;
  WebhookSender sender(fast_options(metrics, {endpoint(server.base_url() + "/hook")}));
  auto ev = event("call.started", "call-1", "sales");
  sender.on_event(ev);
  ASSERT_TRUE(eventually([&] { return sender.stats().ok == 1; }));
  ASSERT_EQ(server.count(), 1);
  const ReceivedRequest r = server.requests()[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/hook");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.header("X-Atende-Event"), "call.started");
  EXPECT_EQ(r.header("X-Atende-Delivery").size(), 36u);
  const std::string ts = r.header("X-Atende-Timestamp");
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  EXPECT_LE(std::abs(std::stoll(ts) - now), 60);
  // What a receiver does: HMAC-SHA256(secret, timestamp + "." + raw body).
  EXPECT_EQ(r.header("X-Atende-Signature"),
            "sha256=" + hmac_sha256_hex("s3cret", ts + "." + r.body));
  EXPECT_EQ(r.body, webhook_body(ev));
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["type"], "call.started");
  EXPECT_EQ(body["call_id"], "call-1");
  EXPECT_EQ(body["at"], format_iso8601_ms(ev.at));
  EXPECT_EQ(body["data"]["flow"], "sales");
  EXPECT_EQ(body["data"]["from"], "sip:alice@example.com");
  EXPECT_EQ(r.head.find("s3cret"), std::string::npos);  // the secret itself never travels

  sender.stop();
  EXPECT_EQ(sender.stats().queued, 0u);
  const std::string text = metrics.render();
  EXPECT_NE(text.find("atende_webhook_deliveries_total{result=\"ok\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("atende_webhook_queue_depth 0"), std::string::npos) << text;
}

TEST(WebhookSender, RetriesAfter500WithTheSameDeliveryId) {
  FakeHttpServer server([](const ReceivedRequest&, int index) {
    return index == 0 ? Reply::json(500, R"({"error":"busy"})") : Reply::json(200, "{}");
  });
  MetricsRegistry metrics;
  WebhookSender sender(fast_options(metrics, {endpoint(server.base_url())}));
  sender.on_event(event("call.ended", "call-1"));
  ASSERT_TRUE(eventually([&] { return sender.stats().ok == 1; }));
  auto s = sender.stats();
  EXPECT_EQ(s.retried, 1u);
  EXPECT_EQ(s.failed, 0u);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].header("X-Atende-Delivery"), reqs[1].header("X-Atende-Delivery"));
  EXPECT_EQ(reqs[0].body, reqs[1].body);
  for (const auto& r : reqs) {
    EXPECT_EQ(r.header("X-Atende-Signature"),
              webhook_signature("s3cret", std::stoll(r.header("X-Atende-Timestamp")), r.body));
  }
  EXPECT_NE(metrics.render().find("atende_webhook_deliveries_total{result=\"retried\"} 1"),
            std::string::npos);
}

TEST(WebhookSender, RetriesTimeoutsAnd429ButNot400) {
  FakeHttpServer server([](const ReceivedRequest& r, int) {
    auto type = r.header("X-Atende-Event");
    if (type == "call.started") return Reply::json(400, R"({"error":"no"})");
    return Reply::json(429, "{}");
  });
  MetricsRegistry metrics;
  auto o = fast_options(metrics, {endpoint(server.base_url())});
  o.endpoints[0].max_attempts = 3;
  WebhookSender sender(o);
  sender.on_event(event("call.started", "call-1"));   // 400: given up at once
  sender.on_event(event("call.answered", "call-2"));  // 429 three times
  ASSERT_TRUE(eventually([&] { return sender.stats().failed == 2; }));
  auto s = sender.stats();
  EXPECT_EQ(s.ok, 0u);
  EXPECT_EQ(s.retried, 2u);
  std::map<std::string, int> by_type;
  for (const auto& r : server.requests()) ++by_type[r.header("X-Atende-Event")];
  EXPECT_EQ(by_type["call.started"], 1);
  EXPECT_EQ(by_type["call.answered"], 3);
}

TEST(WebhookSender, FiltersByEventTypeAndFlow) {
  FakeHttpServer ended_only([](const ReceivedRequest&, int) { return Reply::json(200, "{}"); });
  FakeHttpServer sales_only([](const ReceivedRequest&, int) { return Reply::json(200, "{}"); });
  FakeHttpServer everything([](const ReceivedRequest&, int) { return Reply::json(200, "{}"); });
  auto a = endpoint(ended_only.base_url());
  a.events = {"call.ended"};
  auto b = endpoint(sales_only.base_url());
  b.flows = {"sales", "support"};
  auto c = endpoint(everything.base_url());
  MetricsRegistry metrics;
  WebhookSender sender(fast_options(metrics, {a, b, c}));
  sender.on_event(event("call.started", "c1", "sales"));
  sender.on_event(event("turn.completed", "c1", "sales"));
  sender.on_event(event("call.ended", "c1", "sales"));
  sender.on_event(event("call.started", "c2", "ivr"));
  sender.on_event(event("call.ended", "c2", "ivr"));
  auto no_flow = event("call.ended", "c3");
  no_flow.json = "{}";
  sender.on_event(no_flow);
  // a: 3 call.ended; b: the 3 events of c1; c: all 6.
  ASSERT_TRUE(eventually([&] { return sender.stats().ok == 12; }));
  sender.stop();
  EXPECT_EQ(sender.stats().ok, 12u);
  EXPECT_EQ(ended_only.count(), 3);
  for (const auto& r : ended_only.requests()) EXPECT_EQ(r.header("X-Atende-Event"), "call.ended");
  EXPECT_EQ(sales_only.count(), 3);
  for (const auto& r : sales_only.requests()) {
    EXPECT_EQ(nlohmann::json::parse(r.body)["call_id"], "c1");
  }
  EXPECT_EQ(everything.count(), 6);
}

TEST(WebhookSender, KeepsTheOrderOfOneCallAcrossRetries) {
  // The first request fails; the call's later events wait for its retry.
  FakeHttpServer server([](const ReceivedRequest&, int index) {
    return index == 0 ? Reply::json(503, "{}") : Reply::json(200, "{}");
  });
  MetricsRegistry metrics;
  WebhookSender sender(fast_options(metrics, {endpoint(server.base_url())}));
  const std::vector<std::string> order{"call.started", "call.answered", "turn.completed",
                                       "turn.completed", "call.ended"};
  for (const auto& t : order) sender.on_event(event(t, "one-call"));
  ASSERT_TRUE(eventually([&] { return sender.stats().ok == order.size(); }));
  std::vector<std::string> seen;
  for (const auto& r : server.requests()) seen.push_back(r.header("X-Atende-Event"));
  std::vector<std::string> expected{"call.started"};
  expected.insert(expected.end(), order.begin(), order.end());
  EXPECT_EQ(seen, expected);
}

TEST(WebhookSender, FullQueueDropsAndCountsWithoutBlocking) {
  // The receiver accepts connections and never answers.
  FakeHttpServer server([](const ReceivedRequest&, int) {
    Reply r;
    r.pause(120s);
    return r;
  });
  MetricsRegistry metrics;
  auto o = fast_options(metrics, {endpoint(server.base_url())});
  o.request_timeout = 120s;  // nothing completes while the test runs
  o.stop_timeout = 200ms;
  WebhookSender sender(o);
  for (int i = 0; i < 20000; ++i) sender.on_event(event("turn.completed", "c" + std::to_string(i)));
  auto s = sender.stats();
  EXPECT_EQ(s.dropped, 10000u);
  EXPECT_EQ(s.queued, 10000u);
  EXPECT_EQ(s.ok, 0u);
  EXPECT_NE(metrics.render().find("atende_webhook_dropped_total 10000"), std::string::npos);
  // At most max_in_flight (4) requests reach the receiver.
  EXPECT_TRUE(eventually([&] { return server.count() == 4; }));
  sender.stop();  // gives up on the 10000 after stop_timeout
  s = sender.stats();
  EXPECT_EQ(s.abandoned, 10000u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(server.count(), 4);
  sender.on_event(event("call.ended", "late"));  // after stop: dropped, not queued
  EXPECT_EQ(sender.stats().dropped, 10001u);
  EXPECT_EQ(sender.stats().queued, 0u);
}

TEST(WebhookSender, StopWithADeadEndpointReturns) {
  MetricsRegistry metrics;
  WebhookSenderOptions o;  // the real backoff schedule: the first retry is ~1 s away
  o.metrics = &metrics;
  o.endpoints = {endpoint("http://127.0.0.1:" + std::to_string(closed_port()) + "/x")};
  o.stop_timeout = 300ms;
  WebhookSender sender(o);
  for (int i = 0; i < 50; ++i) sender.on_event(event("call.ended", "c" + std::to_string(i)));
  sender.stop();
  auto s = sender.stats();
  EXPECT_EQ(s.ok, 0u);
  EXPECT_EQ(s.failed + s.abandoned, 50u);
  EXPECT_EQ(s.queued, 0u);
  sender.stop();  // idempotent
}

TEST(WebhookSender, StopDeliversWhatIsQueued) {
  FakeHttpServer server([](const ReceivedRequest&, int) { return Reply::json(204, ""); });
  MetricsRegistry metrics;
  WebhookSender sender(fast_options(metrics, {endpoint(server.base_url())}));
  for (int i = 0; i < 40; ++i) sender.on_event(event("call.ended", "c" + std::to_string(i % 7)));
  sender.stop();  // 40 quick deliveries fit easily in the 3 s stop window
  EXPECT_EQ(sender.stats().ok, 40u);
  EXPECT_EQ(sender.stats().abandoned, 0u);
  EXPECT_EQ(server.count(), 40);
}

TEST(WebhookSender, NoEndpointsIsANoOp) {
  MetricsRegistry metrics;
  WebhookSenderOptions o;
  o.metrics = &metrics;
  WebhookSender sender(o);
  EXPECT_FALSE(sender.enabled());
  sender.on_event(event("call.started", "c"));
  EXPECT_EQ(sender.stats().queued, 0u);
  EXPECT_EQ(sender.stats().dropped, 0u);
}

// The Python receiver runs the verification snippet of docs/api.md: it accepts our
// signature (after failing the first attempt with 500), and refuses a wrong secret (401,
// which is not retried).
TEST(WebhookSender, DocumentedPythonReceiverVerifiesTheSignature) {
  const std::string script = std::string(ATENDE_SOURCE_DIR) + "/tests/unit/hooks_receiver.py";
  FILE* p =
      ::popen(("python3 " + script + " --secret s3cret --fail-first --requests 3").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char line[512];
  ASSERT_NE(std::fgets(line, sizeof line, p), nullptr);
  int port = 0;
  ASSERT_EQ(std::sscanf(line, "PORT %d", &port), 1) << line;
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  MetricsRegistry metrics;
  {
    WebhookSender sender(fast_options(metrics, {endpoint(url)}));
    sender.on_event(event("call.answered", "py-1"));
    ASSERT_TRUE(eventually([&] { return sender.stats().ok == 1; }));
    EXPECT_EQ(sender.stats().retried, 1u);
  }
  {
    WebhookSender wrong(fast_options(metrics, {endpoint(url, "not-the-secret")}));
    wrong.on_event(event("call.ended", "py-1"));
    ASSERT_TRUE(eventually([&] { return wrong.stats().failed == 1; }));
    EXPECT_EQ(wrong.stats().retried, 0u);
  }
  std::vector<std::string> lines;
  while (std::fgets(line, sizeof line, p)) lines.emplace_back(line);
  EXPECT_EQ(::pclose(p), 0);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("500 call.answered ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("failing-first"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1].rfind("200 call.answered ", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find("verified"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[2].rfind("401 call.ended ", 0), 0u) << lines[2];
}

// The shell recipe of docs/api.md (openssl dgst) computes the same signature.
TEST(WebhookSender, DocumentedOpensslRecipeMatches) {
  FakeHttpServer server([](const ReceivedRequest&, int) { return Reply::json(200, "{}"); });
  MetricsRegistry metrics;
  WebhookSender sender(fast_options(metrics, {endpoint(server.base_url(), "shell secret")}));
  sender.on_event(event("call.started", "sh-1"));
  ASSERT_TRUE(eventually([&] { return sender.stats().ok == 1; }));
  const auto r = server.requests().at(0);
  const auto dir = std::filesystem::temp_directory_path() / "atende-hook-recipe";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "body.json", std::ios::binary) << r.body;
  const std::string cmd = "cd " + dir.string() +
                          " && SECRET='shell secret' TS=" + r.header("X-Atende-Timestamp") +
                          " sh -c '{ printf \"%s.\" \"$TS\"; cat body.json; } | openssl dgst "
                          "-sha256 -hmac \"$SECRET\" | sed \"s/^.* //\"'";
  std::string out = shell(cmd);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  EXPECT_EQ("sha256=" + out, r.header("X-Atende-Signature")) << cmd;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace atende::hooks
