// The chat-completion stream decoder, request JSON and conversation history — no network.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "llm/chat_stream.h"
#include "llm/chat_types.h"
#include "llm/conversation.h"
#include "llm/sse_parser.h"

namespace atende::llm {
namespace {

using nlohmann::json;

std::string chunk(json delta, json finish = nullptr) {
  return json{{"id", "c"},
              {"object", "chat.completion.chunk"},
              {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}}
      .dump();
}

struct Recorder {
  std::string text;
  std::vector<ToolCall> calls;
  ChatStreamDecoder decoder{{[this](std::string_view d) { text += d; },
                             [this](const ToolCall& c) { calls.push_back(c); }}};
};

TEST(ChatStreamDecoder, ContentDeltasAndUsage) {
  Recorder r;
  EXPECT_EQ(r.decoder.on_data(chunk({{"role", "assistant"}, {"content", ""}})),
            ChatStreamDecoder::Status::Continue);
  r.decoder.on_data(chunk({{"content", "Hel"}}));
  r.decoder.on_data(chunk({{"content", "lo."}}));
  r.decoder.on_data(chunk(json::object(), "stop"));
  r.decoder.on_data(
      R"({"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}})");
  EXPECT_EQ(r.decoder.on_data("[DONE]"), ChatStreamDecoder::Status::Done);
  EXPECT_EQ(r.text, "Hello.");
  EXPECT_EQ(r.decoder.text(), "Hello.");
  EXPECT_EQ(r.decoder.finish_reason(), "stop");
  ASSERT_TRUE(r.decoder.usage());
  EXPECT_EQ(r.decoder.usage()->total_tokens, 11);
  EXPECT_TRUE(r.calls.empty());
}

TEST(ChatStreamDecoder, ParallelToolCallsAccumulatedByIndex) {
  Recorder r;
  auto call = [](json c) { return chunk({{"tool_calls", json::array({c})}}); };
  r.decoder.on_data(call({{"index", 0},
                          {"id", "call_a"},
                          {"type", "function"},
                          {"function", {{"name", "send_dtmf"}, {"arguments", ""}}}}));
  r.decoder.on_data(call({{"index", 0}, {"function", {{"arguments", "{\"dig"}}}}));
  r.decoder.on_data(call(
      {{"index", 1}, {"id", "call_b"}, {"function", {{"name", "end_call"}, {"arguments", "{}"}}}}));
  r.decoder.on_data(call({{"index", 0}, {"function", {{"arguments", "its\":\"12#\"}"}}}}));
  EXPECT_TRUE(r.calls.empty());  // not complete before finish_reason
  r.decoder.on_data(chunk(json::object(), "tool_calls"));
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0], (ToolCall{"call_a", "send_dtmf", R"({"digits":"12#"})"}));
  EXPECT_EQ(r.calls[1], (ToolCall{"call_b", "end_call", "{}"}));
  EXPECT_EQ(r.decoder.on_data("[DONE]"), ChatStreamDecoder::Status::Done);
  EXPECT_EQ(r.calls.size(), 2u);  // delivered once
}

TEST(ChatStreamDecoder, MissingIdGetsOneAndMissingNameIsAnError) {
  Recorder r;
  r.decoder.on_data(chunk({{"tool_calls", {{{"function", {{"name", "end_call"}}}}}}}));
  EXPECT_EQ(r.decoder.on_data("[DONE]"), ChatStreamDecoder::Status::Done);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].id, "call_0");

  Recorder bad;
  bad.decoder.on_data(
      chunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", "{}"}}}}}}}));
  EXPECT_EQ(bad.decoder.on_data(chunk(json::object(), "tool_calls")),
            ChatStreamDecoder::Status::Error);
  EXPECT_TRUE(bad.calls.empty());
}

TEST(ChatStreamDecoder, MalformedAndHostileChunksAreErrorsNotCrashes) {
  const std::vector<std::string> bad = {
      "{not json",
      "[1,2]",
      R"({"choices":[7]})",
      chunk({{"tool_calls", {{{"index", -1}}}}}),
      chunk({{"tool_calls", {{{"index", 5}, {"function", {{"name", "x"}}}}}}}),  // skips 0..4
      chunk({{"tool_calls", {{{"index", 99}, {"function", {{"name", "x"}}}}}}}),
      chunk({{"tool_calls", {"str"}}}),
      R"({"error":{"message":"overloaded"}})"};
  for (const auto& b : bad) {
    SCOPED_TRACE(b);
    Recorder r;
    EXPECT_EQ(r.decoder.on_data(b), ChatStreamDecoder::Status::Error);
    EXPECT_FALSE(r.decoder.error().empty());
    // Sticky: later input changes nothing.
    EXPECT_EQ(r.decoder.on_data(chunk({{"content", "x"}})), ChatStreamDecoder::Status::Error);
    EXPECT_EQ(r.text, "");
  }
  Recorder r;
  r.decoder.on_data(R"({"error":{"message":"overloaded"}})");
  EXPECT_EQ(r.decoder.error(), "provider error: overloaded");
  // Wrong types where strings are expected are skipped, not thrown.
  Recorder r2;
  EXPECT_EQ(r2.decoder.on_data(chunk({{"content", 5}})), ChatStreamDecoder::Status::Continue);
  EXPECT_EQ(r2.decoder.on_data(R"({"choices":[{"delta":null,"finish_reason":7}]})"),
            ChatStreamDecoder::Status::Continue);
}

TEST(ChatStreamDecoder, BoundsTextAndArguments) {
  ChatStreamLimits limits;
  limits.max_text_bytes = 10;
  limits.max_argument_bytes = 5;
  ChatStreamDecoder d({}, limits);
  EXPECT_EQ(d.on_data(chunk({{"content", "0123456789"}})), ChatStreamDecoder::Status::Continue);
  EXPECT_EQ(d.on_data(chunk({{"content", "!"}})), ChatStreamDecoder::Status::Error);
  ChatStreamDecoder a({}, limits);
  EXPECT_EQ(a.on_data(chunk(
                {{"tool_calls",
                  {{{"index", 0}, {"function", {{"name", "f"}, {"arguments", "{\"a\":1}"}}}}}}})),
            ChatStreamDecoder::Status::Error);
}

TEST(ChatStreamDecoder, EndWithoutFinishIsAnError) {
  ChatStreamDecoder d({});
  d.on_data(chunk({{"content", "cut off"}}));
  EXPECT_EQ(d.on_end(), ChatStreamDecoder::Status::Error);
  ChatStreamDecoder ok({});
  ok.on_data(chunk({{"content", "fine"}}, "stop"));
  EXPECT_EQ(ok.on_end(), ChatStreamDecoder::Status::Done);  // no [DONE], but finished
}

TEST(ChatStreamDecoder, RecordedStreamThroughTheSseParser) {
  // A stream as api.openai.com sends it (trimmed), cut into 7-byte network chunks.
  std::string wire;
  for (const auto& c :
       {chunk({{"role", "assistant"}, {"content", ""}}), chunk({{"content", "Olá, "}}),
        chunk({{"content", "tudo bem?"}}), chunk(json::object(), "stop")}) {
    wire += "data: " + c + "\n\n";
  }
  wire += "data: [DONE]\n\n";
  Recorder r;
  SseParser sse;
  ChatStreamDecoder::Status last = ChatStreamDecoder::Status::Continue;
  for (size_t i = 0; i < wire.size(); i += 7) {
    sse.feed(std::string_view(wire).substr(i, 7),
             [&](const SseEvent& e) { last = r.decoder.on_data(e.data); });
  }
  EXPECT_EQ(last, ChatStreamDecoder::Status::Done);
  EXPECT_EQ(r.text, "Olá, tudo bem?");
}

TEST(ChatTypes, RequestBodyHasTheOpenAiShape) {
  ChatRequest req;
  req.model = "gpt-4o-mini";
  req.temperature = 0.3;
  req.max_tokens = 200;
  req.messages = {Message::system("Be brief."), Message::user("hi"),
                  Message::assistant("", {{"call_1", "send_dtmf", R"({"digits":"1"})"}}),
                  Message::tool("call_1", "sent"), Message::assistant("Done.")};
  req.tools = {{"send_dtmf", "Send digits", json::parse(R"({"type":"object","properties":{}})")}};
  const json j = json::parse(request_body(req));
  EXPECT_EQ(j["model"], "gpt-4o-mini");
  EXPECT_EQ(j["stream"], true);
  EXPECT_EQ(j["stream_options"]["include_usage"], true);
  EXPECT_DOUBLE_EQ(j["temperature"].get<double>(), 0.3);
  EXPECT_EQ(j["max_tokens"], 200);
  ASSERT_EQ(j["messages"].size(), 5u);
  EXPECT_EQ(j["messages"][0], json::parse(R"({"role":"system","content":"Be brief."})"));
  EXPECT_TRUE(j["messages"][2]["content"].is_null());
  EXPECT_EQ(j["messages"][2]["tool_calls"][0], json::parse(R"({"id":"call_1","type":"function",
                            "function":{"name":"send_dtmf","arguments":"{\"digits\":\"1\"}"}})"));
  EXPECT_EQ(j["messages"][3],
            json::parse(R"({"role":"tool","content":"sent","tool_call_id":"call_1"})"));
  EXPECT_EQ(j["tools"][0]["type"], "function");
  EXPECT_EQ(j["tools"][0]["function"]["name"], "send_dtmf");
  // Optional fields absent when unset.
  ChatRequest bare;
  bare.include_usage = false;
  const json b = json::parse(request_body(bare));
  EXPECT_FALSE(b.contains("temperature") || b.contains("tools") || b.contains("stream_options"));
}

TEST(ChatTypes, InvalidUtf8FromACallerDoesNotThrow) {
  ChatRequest req;
  req.messages = {Message::user("caf\xC3")};
  EXPECT_NO_THROW(json::parse(request_body(req)));
}

TEST(ChatTypes, ParseArguments) {
  EXPECT_EQ(*parse_arguments({"", "f", ""}), json::object());
  EXPECT_EQ((*parse_arguments({"", "f", R"({"a":1})"}))["a"], 1);
  EXPECT_FALSE(parse_arguments({"", "f", "[1]"}));
  EXPECT_FALSE(parse_arguments({"", "f", "{\"a\":"}));
}

TEST(Conversation, TruncatesAnInterruptedAnswerToWhatWasHeard) {
  Conversation c(Message::system("sys"));
  c.add(Message::user("book a table"));
  const std::string answer = "We have a table at eight. Would you like it?";
  c.add(Message::assistant(answer));
  const std::string heard = heard_prefix(answer, 0.5);
  EXPECT_EQ(heard, "We have a table at");  // "eight." was not finished
  ASSERT_TRUE(c.truncate_last_assistant(heard));
  EXPECT_EQ(c.messages().back().content, "We have a table at…");
  // Nothing heard: the message goes (the model should not believe it spoke).
  c.add(Message::user("wait"));
  c.add(Message::assistant("Sure, take your time."));
  ASSERT_TRUE(c.truncate_last_assistant(heard_prefix("Sure, take your time.", 0.01)));
  EXPECT_EQ(c.messages().back().role, Role::User);
  EXPECT_FALSE(c.truncate_last_assistant("x"));  // last is not an assistant message
  // Fully heard: unchanged.
  c.add(Message::assistant("All done."));
  c.truncate_last_assistant(heard_prefix("All done.", 1.0));
  EXPECT_EQ(c.messages().back().content, "All done.");
}

TEST(Conversation, HeardPrefixNeverSplitsUtf8) {
  const std::string t = "ação é bom";
  for (int i = 0; i <= 20; ++i) {
    const std::string h = heard_prefix(t, i / 20.0);
    EXPECT_EQ(t.compare(0, h.size(), h), 0);
    EXPECT_TRUE(h.empty() || h == "ação" || h == "ação é" || h == t) << h;
  }
}

TEST(Conversation, DropsOldestTurnsKeepsSystemAndNoOrphanToolResults) {
  Conversation c(Message::system("sys"), {.max_messages = 4, .max_chars = 10000});
  c.add(Message::user("u1"));
  c.add(Message::assistant("", {{"c1", "f", "{}"}}));
  c.add(Message::tool("c1", "r1"));
  c.add(Message::assistant("a1"));  // 5 messages: drop u1
  ASSERT_EQ(c.messages().size(), 4u);
  EXPECT_EQ(c.messages()[0].content, "sys");
  c.add(Message::user("u2"));  // drop the tool call, and its result with it
  ASSERT_EQ(c.messages().size(), 3u);
  EXPECT_EQ(c.messages()[1].content, "a1");
  EXPECT_EQ(c.messages()[2].content, "u2");

  Conversation small(Message::system("s"), {.max_messages = 100, .max_chars = 10});
  small.add(Message::user("12345"));
  small.add(Message::user("67890"));
  EXPECT_EQ(small.messages().size(), 2u);
  EXPECT_EQ(small.messages()[1].content, "67890");
}

}  // namespace
}  // namespace atende::llm
