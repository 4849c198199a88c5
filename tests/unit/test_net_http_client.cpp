#include <gtest/gtest.h>

#include <future>
#include <string>

#include "net/http_client.h"
#include "net/multipart.h"
#include "test_net_fake_server.h"

using namespace std::chrono_literals;
using atende::net::HttpClient;
using atende::net::HttpClientOptions;
using atende::net::HttpError;
using atende::net::HttpRequest;
using atende::net::HttpResult;
using atende::testing::FakeHttpServer;
using atende::testing::ReceivedRequest;
using atende::testing::Reply;

namespace {

// Runs one request and waits for on_done. The wait bound only guards against a hang.
struct Outcome {
  HttpResult result;
  std::string streamed;
  int chunks = 0;
  bool data_after_done = false;
};

Outcome run(HttpClient& http, HttpRequest req, bool stream = false,
            std::function<bool(std::string_view)> filter = nullptr) {
  auto out = std::make_shared<Outcome>();
  auto done_flag = std::make_shared<std::atomic<bool>>(false);
  std::promise<void> done;
  auto fut = done.get_future();
  atende::net::HttpDataCallback on_data;
  if (stream)
    on_data = [out, done_flag, filter](std::string_view c) {
      if (*done_flag) out->data_after_done = true;
      out->streamed += c;
      ++out->chunks;
      return filter ? filter(c) : true;
    };
  http.request(std::move(req), on_data, [out, done_flag, &done](HttpResult r) {
    out->result = std::move(r);
    *done_flag = true;
    done.set_value();
  });
  EXPECT_EQ(fut.wait_for(60s), std::future_status::ready);
  return *out;
}

HttpRequest get(const FakeHttpServer& s, const std::string& path = "/x") {
  HttpRequest r;
  r.url = s.base_url() + path;
  return r;
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

}  // namespace

TEST(HttpClient, GetCollectsBodyStatusAndContentType) {
  FakeHttpServer server([](const ReceivedRequest&, int) { return Reply::json(200, R"({"a":1})"); });
  HttpClient http;
  auto o = run(http, get(server));
  EXPECT_TRUE(o.result.ok()) << o.result.describe();
  EXPECT_EQ(o.result.status, 200);
  EXPECT_EQ(o.result.body, R"({"a":1})");
  EXPECT_EQ(o.result.content_type, "application/json");
  EXPECT_EQ(o.result.attempts, 1);
  EXPECT_GE(o.result.first_byte_seconds, 0);
  ASSERT_EQ(server.count(), 1);
  EXPECT_EQ(server.requests()[0].method, "GET");
  EXPECT_EQ(server.requests()[0].target, "/x");
}

TEST(HttpClient, PostSendsMethodHeadersAndBodyExactly) {
  FakeHttpServer server([](const ReceivedRequest&, int) { return Reply::json(201, "{}"); });
  HttpClient http;
  HttpRequest req = get(server, "/v1/chat/completions");
  req.method = "POST";
  req.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer k1"}};
  req.body = std::string("{\"x\":\"") + std::string(100000, 'a') + "\"}";
  auto o = run(http, req);
  EXPECT_TRUE(o.result.ok());
  auto r = server.requests().at(0);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/v1/chat/completions");
  EXPECT_EQ(r.header("authorization"), "Bearer k1");
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("expect"), "");
  EXPECT_EQ(r.body, req.body);
}

TEST(HttpClient, StreamsChunksOfA2xxBodyAndNeverAfterDone) {
  FakeHttpServer server([](const ReceivedRequest&, int) {
    return Reply::chunked_head(200, "text/event-stream")
        .chunk("data: one\n\n")
        .chunk("data: two\n\n", 30ms)
        .chunk("data: [DONE]\n\n", 30ms)
        .last_chunk();
  });
  HttpClient http;
  auto o = run(http, get(server), /*stream=*/true);
  EXPECT_TRUE(o.result.ok()) << o.result.describe();
  EXPECT_EQ(o.streamed, "data: one\n\ndata: two\n\ndata: [DONE]\n\n");
  EXPECT_GE(o.chunks, 2);  // the pauses split it: it really streamed
  EXPECT_TRUE(o.result.body.empty());
  EXPECT_FALSE(o.data_after_done);
}

TEST(HttpClient, ErrorBodiesAreCollectedNotStreamed) {
  FakeHttpServer server([](const ReceivedRequest&, int) {
    return Reply::json(400, R"({"error":{"message":"bad model"}})");
  });
  HttpClient http;
  auto o = run(http, get(server), /*stream=*/true);
  EXPECT_FALSE(o.result.ok());
  EXPECT_EQ(o.result.error, HttpError::none);
  EXPECT_EQ(o.result.status, 400);
  EXPECT_EQ(o.streamed, "");
  EXPECT_NE(o.result.describe().find("HTTP 400"), std::string::npos);
  EXPECT_NE(o.result.describe().find("bad model"), std::string::npos);
}

TEST(HttpClient, RetriesA5xxWhenAllowed) {
  FakeHttpServer server([](const ReceivedRequest&, int i) {
    return i == 0 ? Reply::json(503, "busy") : Reply::json(200, "fine");
  });
  HttpClient http;
  HttpRequest req = get(server);
  req.max_retries = 1;
  req.retry_delay = 1ms;
  auto o = run(http, req);
  EXPECT_TRUE(o.result.ok());
  EXPECT_EQ(o.result.body, "fine");
  EXPECT_EQ(o.result.attempts, 2);
  EXPECT_EQ(server.count(), 2);
  EXPECT_EQ(http.stats().retries, 1u);
}

TEST(HttpClient, NoRetryByDefaultAndRetriesAreBounded) {
  FakeHttpServer server([](const ReceivedRequest&, int) { return Reply::json(500, "down"); });
  HttpClient http;
  auto once = run(http, get(server));
  EXPECT_EQ(once.result.status, 500);
  EXPECT_EQ(once.result.attempts, 1);
  HttpRequest req = get(server);
  req.max_retries = 2;
  req.retry_delay = 1ms;
  auto o = run(http, req);
  EXPECT_EQ(o.result.status, 500);
  EXPECT_EQ(o.result.attempts, 3);
  EXPECT_EQ(server.count(), 4);
}

TEST(HttpClient, ClientErrorsAreNotRetried) {
  FakeHttpServer server([](const ReceivedRequest&, int) { return Reply::json(401, "key"); });
  HttpClient http;
  HttpRequest req = get(server);
  req.max_retries = 3;
  auto o = run(http, req);
  EXPECT_EQ(o.result.status, 401);
  EXPECT_EQ(server.count(), 1);
}

TEST(HttpClient, ConnectionRefusedIsAConnectErrorAndIsRetried) {
  HttpClient http;
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
  req.max_retries = 1;
  req.retry_delay = 1ms;
  auto o = run(http, req);
  EXPECT_EQ(o.result.error, HttpError::connect) << o.result.describe();
  EXPECT_EQ(o.result.attempts, 2);
  EXPECT_EQ(o.result.status, 0);
}

TEST(HttpClient, StallMidStreamEndsWithIdleTimeoutAndIsNotReplayed) {
  FakeHttpServer server([](const ReceivedRequest&, int) {
    return Reply::chunked_head(200, "text/event-stream").chunk("data: a\n\n").pause(60s);
  });
  HttpClient http;
  HttpRequest req = get(server);
  req.idle_timeout = 200ms;
  req.max_retries = 2;
  auto o = run(http, req, true);
  EXPECT_EQ(o.result.error, HttpError::timeout) << o.result.describe();
  EXPECT_EQ(o.streamed, "data: a\n\n");
  EXPECT_EQ(o.result.attempts, 1);  // something was delivered: a retry would replay it
  EXPECT_EQ(server.count(), 1);
}

TEST(HttpClient, SilentServerIsRetriedThenTimesOut) {
  FakeHttpServer server([](const ReceivedRequest&, int) { return Reply{}.pause(60s); });
  HttpClient http;
  HttpRequest req = get(server);
  req.idle_timeout = 100ms;
  req.max_retries = 1;
  auto o = run(http, req);
  EXPECT_EQ(o.result.error, HttpError::timeout);
  EXPECT_EQ(o.result.attempts, 2);
  EXPECT_EQ(server.count(), 2);
}

TEST(HttpClient, TotalTimeout) {
  FakeHttpServer server([](const ReceivedRequest&, int) {
    Reply r = Reply::chunked_head(200, "text/plain");
    for (int i = 0; i < 600; ++i) r.chunk("x", 100ms);  // trickles: never idle
    return r;
  });
  HttpClient http;
  HttpRequest req = get(server);
  req.total_timeout = 500ms;
  auto o = run(http, req);
  EXPECT_EQ(o.result.error, HttpError::timeout) << o.result.describe();
}

TEST(HttpClient, OversizedBodyIsCutOff) {
  FakeHttpServer server([](const ReceivedRequest&, int) {
    return Reply::full(200, "text/plain", std::string(300000, 'z'));
  });
  HttpClient http;
  HttpRequest req = get(server);
  req.max_response_bytes = 100000;
  auto o = run(http, req);
  EXPECT_EQ(o.result.error, HttpError::too_large);
  EXPECT_LE(o.result.body.size(), 100000u);
}

TEST(HttpClient, ReceiverCanAbortAStream) {
  FakeHttpServer server([](const ReceivedRequest&, int) {
    return Reply::chunked_head(200, "text/plain").chunk("a").chunk("b", 20ms).last_chunk();
  });
  HttpClient http;
  auto o = run(http, get(server), true, [](std::string_view) { return false; });
  EXPECT_EQ(o.result.error, HttpError::aborted);
  EXPECT_EQ(o.chunks, 1);
}

TEST(HttpClient, GarbageResponseIsATransportError) {
  FakeHttpServer server([](const ReceivedRequest&, int) {
    Reply r;
    r.steps.push_back({{}, "\x01\x02 this is not http\r\n\r\n"});
    return r;
  });
  HttpClient http;
  auto o = run(http, get(server));
  EXPECT_EQ(o.result.error, HttpError::transport) << o.result.describe();
}

TEST(HttpClient, ClosedWithoutAnswerIsATransportError) {
  FakeHttpServer server([](const ReceivedRequest&, int) { return Reply{}; });
  HttpClient http;
  auto o = run(http, get(server));
  EXPECT_EQ(o.result.error, HttpError::transport) << o.result.describe();
}

TEST(HttpClient, InvalidRequestsAreRefusedWithoutSending) {
  FakeHttpServer server([](const ReceivedRequest&, int) { return Reply::json(200, "{}"); });
  HttpClient http;
  HttpRequest a;
  a.url = "file:///etc/passwd";
  EXPECT_EQ(run(http, a).result.error, HttpError::invalid);
  HttpRequest b = get(server);
  b.headers = {{"X-Evil", "a\r\nHost: other"}};
  EXPECT_EQ(run(http, b).result.error, HttpError::invalid);
  HttpRequest c = get(server);
  c.method = "GE T";
  EXPECT_EQ(run(http, c).result.error, HttpError::invalid);
  EXPECT_EQ(server.count(), 0);
}

TEST(HttpClient, CancelEndsATransferOnce) {
  FakeHttpServer server([](const ReceivedRequest&, int i) {
    return i == 0 ? Reply{}.pause(60s) : Reply::json(200, "{}");
  });
  HttpClient http;
  std::promise<HttpResult> done;
  auto fut = done.get_future();
  std::atomic<int> calls{0};
  auto id = http.request(get(server), nullptr, [&](HttpResult r) {
    if (calls++ == 0) done.set_value(std::move(r));
  });
  while (server.count() == 0) std::this_thread::sleep_for(1ms);
  http.cancel(id);
  http.cancel(id);       // twice: still one on_done
  http.cancel(id + 99);  // unknown: ignored
  ASSERT_EQ(fut.wait_for(60s), std::future_status::ready);
  EXPECT_EQ(fut.get().error, HttpError::cancelled);
  auto again = run(http, get(server, "/other"));  // the client still works after
  EXPECT_TRUE(again.result.ok());
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpClient, QueueIsBoundedAndConcurrencyLimited) {
  FakeHttpServer server([](const ReceivedRequest&, int) { return Reply{}.pause(60s); });
  HttpClientOptions opts;
  opts.max_concurrent = 1;
  opts.max_queued = 2;
  HttpClient http(opts);
  std::mutex m;
  std::vector<HttpError> errors;
  std::promise<void> all;
  auto fut = all.get_future();
  const int n = 6;
  for (int i = 0; i < n; ++i) {
    HttpRequest req = get(server);
    req.idle_timeout = 300ms;
    http.request(req, nullptr, [&](HttpResult r) {
      std::lock_guard lock(m);
      errors.push_back(r.error);
      if (errors.size() == n) all.set_value();
    });
  }
  ASSERT_EQ(fut.wait_for(60s), std::future_status::ready);
  int rejected = 0;
  for (auto e : errors) rejected += e == HttpError::rejected;
  // At most 1 in flight + 2 queued at any time. Whether the client thread started the
  // first before the others arrived decides between 3 and 4 refusals.
  EXPECT_GE(rejected, n - 3);
  EXPECT_LE(rejected, n - 2);
  EXPECT_EQ(server.count(), n - rejected);
  EXPECT_EQ(http.stats().completed, static_cast<uint64_t>(n));
}

TEST(HttpClient, DestructionAnswersEveryOutstandingRequest) {
  FakeHttpServer server([](const ReceivedRequest&, int) { return Reply{}.pause(60s); });
  std::atomic<int> shutdown_seen{0};
  {
    HttpClient http;
    for (int i = 0; i < 5; ++i)
      http.request(get(server), nullptr, [&](HttpResult r) {
        if (r.error == HttpError::shutdown) ++shutdown_seen;
      });
  }
  EXPECT_EQ(shutdown_seen.load(), 5);
}

TEST(HttpClient, ApiKeyFromConfigOrEnvironment) {
  ::setenv("ATENDE_TEST_KEY", "from-env", 1);
  EXPECT_EQ(atende::net::api_key("configured", "ATENDE_TEST_KEY"), "configured");
  EXPECT_EQ(atende::net::api_key("", "ATENDE_TEST_KEY"), "from-env");
  ::unsetenv("ATENDE_TEST_KEY");
  EXPECT_EQ(atende::net::api_key("", "ATENDE_TEST_KEY"), "");
}

TEST(Multipart, BuildsAFormThatSeparatesParts) {
  atende::net::Multipart form;
  form.add_field("model", "whisper-1");
  form.add_field("evil\"name\r\n", "v");
  std::string binary("RIFF\0\r\n--x", 10);
  form.add_file("file", "audio.wav", "audio/wav", binary);
  std::string body = form.finish();
  std::string ct = form.content_type();
  ASSERT_EQ(ct.rfind("multipart/form-data; boundary=", 0), 0u);
  std::string boundary = ct.substr(ct.find('=') + 1);
  EXPECT_EQ(body.rfind("--" + boundary + "\r\n", 0), 0u);
  EXPECT_NE(body.find("Content-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n"),
            std::string::npos);
  EXPECT_NE(body.find("name=\"evil_name__\""), std::string::npos);
  EXPECT_NE(body.find("name=\"file\"; filename=\"audio.wav\"\r\nContent-Type: audio/wav\r\n\r\n" +
                      binary + "\r\n--" + boundary + "--\r\n"),
            std::string::npos);
}
