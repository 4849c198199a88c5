// ChatClient against the fake OpenAI server (tests/fake_openai): the real HTTP client, real
// sockets, the exact SSE wire format, scripted failures.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdlib>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "llm/chat_client.h"
#include "llm/tools.h"
#include "test_llm_fake_openai.h"

namespace atende::llm {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Collects everything a completion reports; wait() blocks until on_done.
struct Collector {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> deltas;
  std::vector<ToolCall> calls;
  std::optional<ChatResult> result;
  int done_count = 0;

  ChatHandlers handlers() {
    return {[this](std::string_view d) {
              std::lock_guard l(m);
              deltas.emplace_back(d);
              cv.notify_all();
            },
            [this](const ToolCall& c) {
              std::lock_guard l(m);
              calls.push_back(c);
            },
            [this](const ChatResult& r) {
              std::lock_guard l(m);
              result = r;
              ++done_count;
              cv.notify_all();
            }};
  }
  ChatResult wait() {
    std::unique_lock l(m);
    cv.wait(l, [&] { return result.has_value(); });
    return *result;
  }
  void wait_deltas(size_t n) {
    std::unique_lock l(m);
    cv.wait(l, [&] { return deltas.size() >= n || result.has_value(); });
  }
};

class ChatClientTest : public ::testing::Test {
 protected:
  ChatClientOptions options() {
    ChatClientOptions o;
    o.base_url = fake.base_url();
    o.model = "fake-model";
    o.api_key = "sk-test-123";
    o.stall_timeout = 1500ms;
    o.max_retries = 0;
    return o;
  }
  ChatRequest request(std::string user = "hello") {
    ChatRequest r;
    r.messages = {Message::system("You are a test."), Message::user(std::move(user))};
    r.temperature = 0.2;
    return r;
  }

  testing::FakeOpenAi fake;
  net::HttpClient http;
};

TEST_F(ChatClientTest, StreamsContentAndSendsTheRequestOpenAiExpects) {
  fake.script({{"chat", {{{"content", "Hi there. How can I help?"}}}}});
  ChatClient chat(http, options());
  Collector c;
  ChatRequest req = request();
  req.tools = builtin_tools();
  chat.complete(req, c.handlers());
  const ChatResult r = c.wait();
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.text, "Hi there. How can I help?");
  EXPECT_GT(c.deltas.size(), 3u);  // streamed word by word, not in one piece
  EXPECT_EQ(r.finish_reason, "stop");
  ASSERT_TRUE(r.usage);
  EXPECT_GT(r.usage->total_tokens, 0);
  EXPECT_GE(r.first_token_seconds, 0);
  EXPECT_LE(r.first_token_seconds, r.seconds);
  EXPECT_EQ(c.done_count, 1);

  const json log = fake.requests();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["path"], "/v1/chat/completions");
  EXPECT_EQ(log[0]["headers"]["authorization"], "Bearer sk-test-123");
  EXPECT_EQ(log[0]["headers"]["content-type"], "application/json");
  const json& body = log[0]["json"];
  EXPECT_EQ(body["model"], "fake-model");
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["messages"][1], json::parse(R"({"role":"user","content":"hello"})"));
  EXPECT_EQ(body["tools"].size(), 3u);
  EXPECT_EQ(body["tools"][2]["function"]["name"], "send_dtmf");
}

TEST_F(ChatClientTest, ToolCallsSplitAcrossChunksAndBytes) {
  // Arguments in 3-byte fragments, the whole SSE stream written 5 bytes at a time.
  fake.script(
      {{"chat",
        {{{"content", "Sending."},
          {"byte_split", 5},
          {"tool_calls",
           {{{"id", "call_x"},
             {"name", "send_dtmf"},
             {"arguments", R"({"digits":"42#"})"},
             {"split", 3}},
            {{"id", "call_y"}, {"name", "end_call"}, {"arguments", R"({"reason":"done"})"}}}}}}}});
  ChatClient chat(http, options());
  Collector c;
  chat.complete(request(), c.handlers());
  const ChatResult r = c.wait();
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.finish_reason, "tool_calls");
  ASSERT_EQ(c.calls.size(), 2u);
  EXPECT_EQ(c.calls[0], (ToolCall{"call_x", "send_dtmf", R"({"digits":"42#"})"}));
  EXPECT_EQ(dtmf_digits(c.calls[0]), "42#");
  EXPECT_EQ(string_argument(c.calls[1], "reason"), "done");
  EXPECT_EQ(r.tool_calls, c.calls);
  EXPECT_EQ(r.text, "Sending.");
}

TEST_F(ChatClientTest, ApiKeyFromTheEnvironment) {
  setenv("ATENDE_TEST_LLM_KEY", "sk-from-env", 1);
  ChatClientOptions o = options();
  o.api_key.clear();
  o.api_key_env = "ATENDE_TEST_LLM_KEY";
  o.base_url += "/v1/";  // the OpenAI SDK convention works too
  ChatClient chat(http, o);
  Collector c;
  chat.complete(request(), c.handlers());
  ASSERT_TRUE(c.wait().ok());
  EXPECT_EQ(fake.requests()[0]["headers"]["authorization"], "Bearer sk-from-env");
  EXPECT_EQ(fake.requests()[0]["path"], "/v1/chat/completions");
}

TEST_F(ChatClientTest, ServerErrorIsReportedWithItsMessage) {
  fake.script({{"chat", {{{"status", 500}, {"message", "model overloaded"}}}}});
  ChatClient chat(http, options());
  Collector c;
  chat.complete(request(), c.handlers());
  const ChatResult r = c.wait();
  EXPECT_EQ(r.error, ChatError::Http);
  EXPECT_EQ(r.http_status, 500);
  EXPECT_NE(r.message.find("model overloaded"), std::string::npos) << r.message;
  EXPECT_TRUE(c.deltas.empty());
}

TEST_F(ChatClientTest, RetriesA5xxBeforeAnyByte) {
  fake.script({{"chat", {{{"status", 503}}, {{"content", "Second try."}}}}});
  ChatClientOptions o = options();
  o.max_retries = 1;
  ChatClient chat(http, o);
  Collector c;
  chat.complete(request(), c.handlers());
  const ChatResult r = c.wait();
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.text, "Second try.");
  EXPECT_EQ(r.attempts, 2);
}

TEST_F(ChatClientTest, StallMidStreamIsATimeoutKeepingWhatArrived) {
  // Role chunk + two words, then silence for 30 s; the stall timeout is 1.5 s.
  fake.script(
      {{"chat", {{{"content", "One two three four"}, {"stall_after", 3}, {"stall_ms", 30000}}}}});
  ChatClient chat(http, options());
  Collector c;
  chat.complete(request(), c.handlers());
  const ChatResult r = c.wait();
  EXPECT_EQ(r.error, ChatError::Timeout) << r.message;
  EXPECT_EQ(r.text, "One two");
}

TEST_F(ChatClientTest, NoFirstTokenIsATimeout) {
  fake.script({{"chat", {{{"content", "late"}, {"delay_headers_ms", 30000}}}}});
  ChatClient chat(http, options());
  Collector c;
  chat.complete(request(), c.handlers());
  const ChatResult r = c.wait();
  EXPECT_EQ(r.error, ChatError::Timeout);
  EXPECT_EQ(r.first_token_seconds, -1);
}

TEST_F(ChatClientTest, StreamEndingWithoutFinishIsMalformed) {
  fake.script({{"chat", {{{"content", "cut here now"}, {"close_after", 2}}}}});
  ChatClient chat(http, options());
  Collector c;
  chat.complete(request(), c.handlers());
  const ChatResult r = c.wait();
  EXPECT_EQ(r.error, ChatError::Malformed);
  EXPECT_EQ(r.text, "cut");
}

TEST_F(ChatClientTest, ErrorObjectMidStream) {
  fake.script(
      {{"chat", {{{"content", "a b c"}, {"error_after", 2}, {"message", "rate limited"}}}}});
  ChatClient chat(http, options());
  Collector c;
  chat.complete(request(), c.handlers());
  const ChatResult r = c.wait();
  EXPECT_EQ(r.error, ChatError::Provider);
  EXPECT_NE(r.message.find("rate limited"), std::string::npos);
}

TEST_F(ChatClientTest, GarbageStreamIsMalformed) {
  fake.script({{"chat", {{{"raw", "data: {oops\n\ndata: [DONE]\n\n"}}}}});
  ChatClient chat(http, options());
  Collector c;
  chat.complete(request(), c.handlers());
  EXPECT_EQ(c.wait().error, ChatError::Malformed);
}

TEST_F(ChatClientTest, ServerIgnoringStreamTrueStillWorks) {
  // A non-streamed JSON completion (some self-hosted servers): decoded all at once.
  fake.script(
      {{"chat",
        {{{"raw",
           R"({"choices":[{"index":0,"message":{"role":"assistant","content":"Whole answer."},"finish_reason":"stop"}]})"}}}}});
  ChatClient chat(http, options());
  Collector c;
  chat.complete(request(), c.handlers());
  const ChatResult r = c.wait();
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.text, "Whole answer.");
}

TEST_F(ChatClientTest, CancelStopsTheStreamAndReportsCancelled) {
  // 40 words, 100 ms apart: cancel after the first few.
  std::string long_answer;
  for (int i = 0; i < 40; ++i) long_answer += "word" + std::to_string(i) + " ";
  fake.script({{"chat", {{{"content", long_answer}, {"delay_ms", 100}}}}});
  ChatClient chat(http, options());
  Collector c;
  auto call = chat.complete(request(), c.handlers());
  c.wait_deltas(3);
  call->cancel();
  const ChatResult r = c.wait();
  EXPECT_EQ(r.error, ChatError::Cancelled);
  size_t after;
  {
    std::lock_guard l(c.m);
    after = c.deltas.size();
  }
  EXPECT_LT(after, 40u);
  EXPECT_EQ(c.done_count, 1);
  call->cancel();  // again, after the end: harmless
}

TEST_F(ChatClientTest, CancelBeforeAnythingArrives) {
  fake.script({{"chat", {{{"content", "never heard"}, {"delay_headers_ms", 2000}}}}});
  ChatClient chat(http, options());
  Collector c;
  auto call = chat.complete(request(), c.handlers());
  call->cancel();
  const ChatResult r = c.wait();
  EXPECT_EQ(r.error, ChatError::Cancelled);
  EXPECT_TRUE(c.deltas.empty());
}

TEST_F(ChatClientTest, ConnectionRefused) {
  ChatClientOptions o = options();
  o.base_url = "http://127.0.0.1:1";  // nothing listens on port 1
  ChatClient chat(http, o);
  Collector c;
  chat.complete(request(), c.handlers());
  EXPECT_EQ(c.wait().error, ChatError::Connect);
}

TEST(ChatUrl, ToleratesSlashesAndV1) {
  EXPECT_EQ(openai_url("http://h:1", "chat/completions"), "http://h:1/v1/chat/completions");
  EXPECT_EQ(openai_url("http://h:1/", "/chat/completions"), "http://h:1/v1/chat/completions");
  EXPECT_EQ(openai_url("https://api.openai.com/v1", "audio/speech"),
            "https://api.openai.com/v1/audio/speech");
  EXPECT_EQ(openai_url("http://h/proxy/v1/", "x"), "http://h/proxy/v1/x");
}

TEST(ChatErrorText, PrefersTheJsonMessageAndStaysOneBoundedLine) {
  EXPECT_EQ(error_text(R"({"error":{"message":"bad key","type":"auth"}})"), "bad key");
  EXPECT_EQ(error_text("plain\ntext"), "plain text");
  EXPECT_EQ(error_text(std::string(1000, 'x'), 10).size(), 10u);
}

}  // namespace
}  // namespace atende::llm
