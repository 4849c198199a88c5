#include <gtest/gtest.h>

#include <cstring>
#include <future>
#include <map>

#include "speech/http_stt.h"
#include "test_net_fake_server.h"

using atende::speech::HttpRecognizer;
using atende::speech::HttpSttOptions;
using atende::speech::Recognition;
using atende::testing::FakeHttpServer;
using atende::testing::ReceivedRequest;
using atende::testing::Reply;

namespace {

struct Part {
  std::string head;  // the part's headers, raw
  std::string body;
};

// Splits a multipart/form-data body by the boundary named in Content-Type, strictly: any
// deviation from RFC 7578 framing fails the test.
std::map<std::string, Part> parse_multipart(const ReceivedRequest& req) {
  std::map<std::string, Part> parts;
  const std::string ct = req.header("Content-Type");
  const auto b = ct.find("boundary=");
  EXPECT_EQ(ct.rfind("multipart/form-data;", 0), 0u) << ct;
  if (b == std::string::npos) return parts;
  std::string boundary = ct.substr(b + 9);
  if (!boundary.empty() && boundary.front() == '"')
    boundary = boundary.substr(1, boundary.size() - 2);
  const std::string delim = "--" + boundary;
  const std::string& body = req.body;
  EXPECT_EQ(body.rfind(delim + "\r\n", 0), 0u);
  EXPECT_NE(body.find("\r\n" + delim + "--\r\n"), std::string::npos) << "no closing delimiter";
  size_t pos = delim.size() + 2;
  for (;;) {
    const size_t next = body.find("\r\n" + delim, pos);
    if (next == std::string::npos) break;
    const std::string chunk = body.substr(pos, next - pos);
    const size_t sep = chunk.find("\r\n\r\n");
    EXPECT_NE(sep, std::string::npos);
    Part p{chunk.substr(0, sep), chunk.substr(sep + 4)};
    const auto n = p.head.find("name=\"");
    EXPECT_NE(n, std::string::npos) << p.head;
    const std::string name = p.head.substr(n + 6, p.head.find('"', n + 6) - n - 6);
    parts[name] = p;
    pos = next + 2 + delim.size();
    if (body.compare(pos, 2, "--") == 0) break;
    pos += 2;  // CRLF
  }
  return parts;
}

Recognition transcribe(HttpSttOptions o, std::vector<std::string> expected = {},
                       size_t samples = 8000) {
  HttpRecognizer stt(std::move(o));
  auto pcm = std::make_shared<std::vector<int16_t>>(samples);
  for (size_t i = 0; i < pcm->size(); ++i) (*pcm)[i] = static_cast<int16_t>(i * 37 % 2000);
  std::promise<Recognition> p;
  auto f = p.get_future();
  stt.recognize({pcm, 8000, std::move(expected), "en-us", "t"},
                [&p](Recognition r) { p.set_value(std::move(r)); });
  EXPECT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  return f.get();
}

HttpSttOptions options(const FakeHttpServer& s) {
  HttpSttOptions o;
  o.base_url = s.base_url() + "/";  // a trailing slash is tolerated
  o.model = "whisper-large-v3";
  o.api_key = "sk-test";
  return o;
}

}  // namespace

TEST(HttpRecognizer, SendsTheOpenAiTranscriptionRequestFieldByField) {
  FakeHttpServer server([](const ReceivedRequest&, int) {
    return Reply::json(200, R"({"text":"  I'd like to book a table. "})");
  });
  auto r = transcribe(options(server), {"sales", "support"}, 8000);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.text, "I'd like to book a table.");
  EXPECT_FALSE(r.rejected);
  EXPECT_EQ(r.engine, "http");
  EXPECT_EQ(r.matched_index, -1);
  EXPECT_DOUBLE_EQ(r.audio_seconds, 1.0);

  ASSERT_EQ(server.count(), 1);
  const auto req = server.requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/v1/audio/transcriptions");
  EXPECT_EQ(req.header("Authorization"), "Bearer sk-test");
  auto parts = parse_multipart(req);
  ASSERT_EQ(parts.size(), 5u);
  const Part& file = parts["file"];
  EXPECT_NE(file.head.find("Content-Disposition: form-data; name=\"file\"; filename=\"audio.wav\""),
            std::string::npos)
      << file.head;
  EXPECT_NE(file.head.find("Content-Type: audio/wav"), std::string::npos) << file.head;
  ASSERT_EQ(file.body.size(), 44u + 2 * 8000);  // RIFF header + PCM16
  EXPECT_EQ(file.body.substr(0, 4), "RIFF");
  EXPECT_EQ(file.body.substr(8, 4), "WAVE");
  uint32_t rate = 0;
  std::memcpy(&rate, file.body.data() + 24, 4);
  EXPECT_EQ(rate, 8000u);
  int16_t second_sample = 0;
  std::memcpy(&second_sample, file.body.data() + 44 + 2, 2);
  EXPECT_EQ(second_sample, 37);
  EXPECT_EQ(parts["model"].body, "whisper-large-v3");
  EXPECT_EQ(parts["language"].body, "en");  // ISO 639-1 from "en-us"
  EXPECT_EQ(parts["response_format"].body, "json");
  EXPECT_EQ(parts["prompt"].body, "sales, support");
}

TEST(HttpRecognizer, NoPromptWithoutExpectedPhrasesOrWhenOff) {
  FakeHttpServer server(
      [](const ReceivedRequest&, int) { return Reply::json(200, R"({"text":"x"})"); });
  transcribe(options(server));
  auto o = options(server);
  o.prompt_hint = false;
  transcribe(o, {"yes"});
  ASSERT_EQ(server.count(), 2);
  EXPECT_EQ(parse_multipart(server.requests()[0]).count("prompt"), 0u);
  EXPECT_EQ(parse_multipart(server.requests()[1]).count("prompt"), 0u);
}

TEST(HttpRecognizer, RetriesAServerErrorOnce) {
  FakeHttpServer server([](const ReceivedRequest&, int i) {
    return i == 0 ? Reply::json(500, R"({"error":{"message":"overloaded"}})")
                  : Reply::json(200, R"({"text":"yes"})");
  });
  auto r = transcribe(options(server));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.text, "yes");
  EXPECT_EQ(server.count(), 2);
}

TEST(HttpRecognizer, GivesUpAfterTheRetries) {
  FakeHttpServer server([](const ReceivedRequest&, int) { return Reply::json(503, "busy"); });
  auto r = transcribe(options(server));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(server.count(), 2);  // retries = 1
  EXPECT_EQ(r.error.rfind("http stt: ", 0), 0u) << r.error;
}

TEST(HttpRecognizer, SurfacesTheProvidersErrorMessage) {
  FakeHttpServer server([](const ReceivedRequest&, int) {
    return Reply::json(401, R"({"error":{"message":"Incorrect API key provided: sk-te**",)"
                            R"("type":"invalid_request_error"}})");
  });
  auto r = transcribe(options(server));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("401"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("Incorrect API key provided"), std::string::npos) << r.error;
  EXPECT_EQ(server.count(), 1);  // a 4xx is not retried
}

TEST(HttpRecognizer, TimesOutOnAServerThatDoesNotAnswer) {
  FakeHttpServer server([](const ReceivedRequest&, int) {
    Reply r = Reply::json(200, R"({"text":"late"})");
    r.steps.front().delay = std::chrono::milliseconds(3000);
    return r;
  });
  auto o = options(server);
  o.timeout = std::chrono::milliseconds(300);
  o.retries = 0;
  auto r = transcribe(o);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error, "");
  EXPECT_EQ(r.text, "");
}

TEST(HttpRecognizer, RejectsGarbageAndWrongShapes) {
  for (const std::string body : {"not json", R"({"txt":"x"})", R"({"text":42})", "[1,2]", ""}) {
    FakeHttpServer server([&](const ReceivedRequest&, int) { return Reply::json(200, body); });
    auto r = transcribe(options(server));
    EXPECT_FALSE(r.ok) << body;
    EXPECT_NE(r.error.find("{\"text\""), std::string::npos) << r.error;
  }
}

TEST(HttpRecognizer, EmptyTranscriptIsARejectionNotAnError) {
  FakeHttpServer server(
      [](const ReceivedRequest&, int) { return Reply::json(200, R"({"text":" "})"); });
  auto r = transcribe(options(server));
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.rejected);
}

TEST(HttpRecognizer, LongTranscriptsAreCutAtACharacterBoundary) {
  const std::string text = std::string(4095, 'a') +
                           "\xc3\xa9"
                           "bbb";  // é straddles byte 4096
  FakeHttpServer server(
      [&](const ReceivedRequest&, int) { return Reply::json(200, R"({"text":")" + text + "\"}"); });
  auto r = transcribe(options(server));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.text, std::string(4095, 'a'));
}

TEST(HttpRecognizer, NoAudioFailsAtOnce) {
  HttpSttOptions o;
  o.base_url = "http://127.0.0.1:9";
  HttpRecognizer stt(o);
  Recognition got;
  stt.recognize({nullptr, 8000, {}, "en", ""}, [&](Recognition r) { got = std::move(r); });
  EXPECT_FALSE(got.ok);
  EXPECT_NE(got.error.find("no audio"), std::string::npos);
}

TEST(HttpRecognizer, ConfigIsCheckedByTheRegistry) {
  auto reg = atende::speech::RecognizerRegistry::with_builtins();
  EXPECT_THROW(reg.create("http", {}), std::invalid_argument);  // base_url required
  EXPECT_THROW(reg.create("http", {{"base_url", "ftp://x"}}), std::invalid_argument);
  EXPECT_THROW(reg.create("http", {{"base_url", "http://x"}, {"timeout_ms", "-1"}}),
               std::invalid_argument);
  EXPECT_THROW(reg.create("http", {{"base_url", "http://x"}, {"retries", "9"}}),
               std::invalid_argument);
  EXPECT_THROW(reg.create("http", {{"base_url", "http://x"}, {"colour", "red"}}),
               std::invalid_argument);
  auto o = atende::speech::http_stt_options_from(
      {{"base_url", "http://x"}, {"model", "m"}, {"timeout_ms", "1500"}, {"prompt_hint", "off"}});
  EXPECT_EQ(o.model, "m");
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(1500));
  EXPECT_FALSE(o.prompt_hint);
  EXPECT_FALSE(reg.create("http", {{"base_url", "http://x"}})->uses_grammar());
}
