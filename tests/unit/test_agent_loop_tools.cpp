// The agent loop with flow-defined HTTP tools and streamed HTTP speech, against
// tests/fake_openai (chat, /tools/<name>, /v1/audio/speech) through the real ChatClient,
// HttpToolRunner and HttpTts: tool call -> POST -> tool message -> second completion ->
// spoken; failures go back to the model; barge-in while a tool runs; streamed sentences
// play from their first chunk; a stalled stream falls back.
#include "speech/http_tts.h"
#include "test_agent_loop_fixture.h"

namespace atende::agent {
namespace {

using nlohmann::json;

struct AgentToolsTest : AgentTest {
  llm::HttpToolRunner runner{http};

  AgentSettings with_tool(int timeout_ms = 3000) {
    AgentSettings s = settings();
    llm::HttpTool t;
    t.spec = {"check_availability", "Whether a table is free.",
              json::parse(R"({"type":"object","properties":{"date":{"type":"string"},
                 "people":{"type":"integer"}},"required":["date","people"]})")};
    t.url = fake.base_url() + "/tools/check_availability";
    t.headers = {{"X-Api-Key", "k1"}};
    t.timeout = std::chrono::milliseconds(timeout_ms);
    s.http_tools.push_back(t);
    tool_runner = &runner;
    return s;
  }
  static json tool_call(const std::string& args = R"({"date":"2026-11-27","people":2})") {
    return {
        {"tool_calls", {{{"id", "call_t1"}, {"name", "check_availability"}, {"arguments", args}}}}};
  }
  json requests_to(const std::string& path) {
    json out = json::array();
    for (auto& r : fake.requests()) {
      if (r["path"].get<std::string>().find(path) != std::string::npos) out.push_back(r);
    }
    return out;
  }
  bool has_label(const std::string& label) const {
    for (auto& l : leg.labels()) {
      if (l == label) return true;
    }
    return false;
  }
};

TEST_F(AgentToolsTest, ToolCallPostsTheArgumentsAndTheResultReachesTheSecondAnswer) {
  fake.script({{"chat", {tool_call(), {{"content", "Yes, we have a table at eight."}}}},
               {"tools", {{{"json", {{"available", true}, {"time", "20:00"}}}}}}});
  stt.texts = {"a table for two on friday"};
  start(with_tool());
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return last_label() == "Yes, we have a table at eight."; }));
  play_out();
  // The caller heard "one moment" (the model said nothing before calling), then the answer.
  EXPECT_EQ(leg.labels(),
            (std::vector<std::string>{"Hello.", default_phrase(AgentPhrase::kWait, "en"),
                                      "Yes, we have a table at eight."}));
  // The tool got the model's arguments as JSON, with its headers.
  auto tools = requests_to("/tools/");
  ASSERT_EQ(tools.size(), 1u);
  EXPECT_EQ(tools[0]["path"], "/tools/check_availability");
  EXPECT_EQ(tools[0]["json"], json::parse(R"({"date":"2026-11-27","people":2})"));
  EXPECT_EQ(tools[0]["headers"]["x-api-key"], "k1");
  EXPECT_EQ(tools[0]["headers"]["content-type"], "application/json");
  // The first request offered the tool; the second carries the call and its result.
  auto chats = requests_to("/chat/completions");
  ASSERT_EQ(chats.size(), 2u);
  bool offered = false;
  for (auto& t : chats[0]["json"]["tools"])
    offered |= t["function"]["name"] == "check_availability";
  EXPECT_TRUE(offered);
  const json& msgs = chats[1]["json"]["messages"];
  ASSERT_GE(msgs.size(), 5u);
  const json& call = msgs[msgs.size() - 2];
  EXPECT_EQ(call["role"], "assistant");
  EXPECT_TRUE(call["content"].is_null());
  EXPECT_EQ(call["tool_calls"][0]["function"]["name"], "check_availability");
  const json& result = msgs.back();
  EXPECT_EQ(result["role"], "tool");
  EXPECT_EQ(result["tool_call_id"], "call_t1");
  EXPECT_EQ(json::parse(result["content"].get<std::string>()),
            json::parse(R"({"available":true,"time":"20:00"})"));
  // One turn, answered, with the answer in the history.
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[1].error, "");
  EXPECT_NE(turns[1].agent_text.find("table at eight"), std::string::npos);
  EXPECT_EQ(agent->conversation().messages().back().content, "Yes, we have a table at eight.");
  EXPECT_TRUE(host.has("tool_result"));
  EXPECT_EQ(agent->state(), AgentLoop::State::kListening);
}

TEST_F(AgentToolsTest, FailuresGoBackToTheModelAsErrors) {
  fake.script({{"chat",
                {{{"content", "Let me check."}, {"tool_calls", tool_call()["tool_calls"]}},
                 {{"content", "Sorry, I cannot check right now."}},
                 tool_call(),
                 {{"content", "Still nothing."}},
                 tool_call("[1,2]"),
                 {{"content", "Those were odd arguments."}}}},
               {"tools", {{{"status", 503}, {"body", "down"}}, {{"body", "<html>oops</html>"}}}}});
  stt.texts = {"is there a table", "and now", "and now?"};
  start(with_tool());
  play_out();
  // 5xx.
  say();
  ASSERT_TRUE(wait_for([&] { return last_label() == "Sorry, I cannot check right now."; }));
  EXPECT_FALSE(has_label(default_phrase(AgentPhrase::kWait, "en")));  // it said "Let me check."
  play_out();
  // A 2xx that is not JSON.
  say();
  ASSERT_TRUE(wait_for([&] { return last_label() == "Still nothing."; }));
  play_out();
  // Arguments that are not an object: never sent.
  say();
  ASSERT_TRUE(wait_for([&] { return last_label() == "Those were odd arguments."; }));
  play_out();
  auto chats = requests_to("/chat/completions");
  ASSERT_EQ(chats.size(), 6u);
  auto tool_message = [&](size_t i) {
    return json::parse(chats[i]["json"]["messages"].back()["content"].get<std::string>());
  };
  EXPECT_NE(tool_message(1)["error"].get<std::string>().find("503"), std::string::npos);
  EXPECT_EQ(tool_message(3)["error"], "tool answer is not JSON");
  EXPECT_EQ(tool_message(5)["error"], "arguments are not a JSON object");
  EXPECT_EQ(requests_to("/tools/").size(), 2u);
  ASSERT_EQ(turns.size(), 4u);
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(turns[i].error, "") << i;
}

TEST_F(AgentToolsTest, ToolTimeoutGoesBackAsAnErrorAndTheCallerIsNotLeftSilent) {
  fake.script({{"chat", {tool_call(), {{"content", "The booking system is slow."}}}},
               {"tools", {{{"delay_ms", 3000}}}}});
  stt.texts = {"a table please"};
  start(with_tool(300));
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] {  // not silence while the tool runs
    return last_label() == default_phrase(AgentPhrase::kWait, "en");
  }));
  ASSERT_TRUE(wait_for([&] { return last_label() == "The booking system is slow."; }));
  auto chats = requests_to("/chat/completions");
  ASSERT_EQ(chats.size(), 2u);
  const auto err = json::parse(chats[1]["json"]["messages"].back()["content"].get<std::string>());
  EXPECT_NE(err["error"].get<std::string>().find("timeout"), std::string::npos) << err;
}

TEST_F(AgentToolsTest, RoundsAreBounded) {
  fake.script({{"chat", {tool_call(), tool_call(), {{"content", "x"}}}}});
  stt.texts = {"loop"};
  auto s = with_tool();
  s.max_tool_rounds = 1;
  start(std::move(s));
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return host.has("agent_error"); }));
  play_out();
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_NE(turns[1].error.find("tool rounds"), std::string::npos) << turns[1].error;
  EXPECT_EQ(last_label(), default_phrase(AgentPhrase::kFallback, "en"));
  EXPECT_EQ(requests_to("/chat/completions").size(), 2u);
  // The history stays valid: every call has its tool message.
  const auto& msgs = agent->conversation().messages();
  EXPECT_EQ(msgs.back().role, llm::Role::Tool);
}

TEST_F(AgentToolsTest, BargeInWhileAToolRunsAnswersTheCallForTheNextRequest) {
  fake.script({{"chat", {tool_call(), {{"content", "Okay, what then?"}}}},
               {"tools", {{{"delay_ms", 4000}}}}});
  stt.texts = {"a table please", "never mind"};
  auto s = with_tool(10000);
  const std::string wait = "One moment please, I am checking the reservation book for you now.";
  s.wait_text = wait;
  start(std::move(s));
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return last_label() == wait; }));
  ticks(10);
  ASSERT_TRUE(leg.playing());
  ticks(40, tone_frame());  // the caller talks over the wait phrase
  ASSERT_EQ(leg.flushes, 1);
  const auto& msgs = agent->conversation().messages();
  ASSERT_GE(msgs.size(), 2u);
  EXPECT_EQ(msgs[msgs.size() - 2].role, llm::Role::Assistant);
  EXPECT_EQ(msgs.back().role, llm::Role::Tool);
  EXPECT_NE(msgs.back().content.find("cancelled"), std::string::npos);
  ticks(40);  // the caller's turn ends: a new request, valid, and its answer is spoken
  ASSERT_TRUE(wait_for([&] { return last_label() == "Okay, what then?"; }));
  auto chats = requests_to("/chat/completions");
  ASSERT_EQ(chats.size(), 2u);
  EXPECT_EQ(chats[1]["json"]["messages"].back()["content"], "never mind");
}

struct AgentStreamTest : AgentToolsTest {
  FakePhrases slow_phrases;  // nothing cached: answers must stream
  std::unique_ptr<speech::HttpTts> http_tts;
  void SetUp() override {
    speech::HttpTtsOptions o;
    o.base_url = fake.base_url();
    o.api_key = "k";
    o.max_retries = 0;
    http_tts = std::make_unique<speech::HttpTts>(http, o);
    stream_tts = http_tts.get();
    tts = &slow_phrases;
  }
  void TearDown() override { agent.reset(); }
  AgentSettings no_greeting() {
    AgentSettings s = settings();
    s.greeting = "";
    return s;
  }
  json speech_request(const std::string& text) {
    for (auto& r : requests_to("/audio/speech")) {
      if (r["json"]["input"] == text) return r;
    }
    return nullptr;
  }
};

TEST_F(AgentStreamTest, FirstChunkPlaysBeforeTheStreamEnds) {
  const std::string answer = "This answer is streamed.";
  fake.script({{"chat", {{{"content", answer}}}},
               {"speech",
                {{{"input_contains", "streamed"},
                  {"seconds", 2.0},
                  {"chunk_bytes", 4800},
                  {"tail_after_bytes", 24000},  // 0.5 s at once, the rest 1.5 s later
                  {"tail_delay_ms", 1500}}}}});
  stt.texts = {"stream it"};
  start(no_greeting());
  say();
  ASSERT_TRUE(wait_for([&] { return !leg.clips.empty(); }));
  // The caller already has audio while the provider has not finished the sentence.
  json req = speech_request(answer);
  ASSERT_TRUE(req.is_object());
  EXPECT_FALSE(req.contains("ended_at")) << "the stream ended before the first audio played";
  EXPECT_EQ(req["json"]["response_format"], "pcm");
  ASSERT_TRUE(wait_for([&] { return speech_request(answer).contains("ended_at"); }));
  ASSERT_TRUE(
      wait_for([&] { return turns.size() == 0 && agent->state() != AgentLoop::State::kThinking; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  play_out();
  ASSERT_EQ(turns.size(), 1u);
  const AgentTurn& t = turns[0];
  EXPECT_EQ(t.error, "");
  EXPECT_EQ(t.agent_text, answer);
  EXPECT_GE(t.first_audio_ms, t.first_token_ms);
  EXPECT_GE(t.first_play_ms, t.first_audio_ms);
  // Every sample arrived, in pieces (more than one clip, far fewer than the chunks).
  size_t total = 0;
  for (auto& c : leg.clips) {
    EXPECT_EQ(c->label, answer);
    total += c->pcm.size();
  }
  EXPECT_GE(total, 16000u);
  EXPECT_LT(total, 16000u + 400);
  EXPECT_GT(leg.clips.size(), 1u);
  EXPECT_LT(leg.clips.size(), 20u);
  EXPECT_EQ(slow_phrases.fetches, 0);  // the answer did not go through the phrase cache
}

TEST_F(AgentStreamTest, AStallMidStreamFallsBackWithTheEmbeddedVoice) {
  fake.script({{"chat", {{{"content", "This one stalls."}}}},
               {"speech",
                {{{"input_contains", "stalls"},
                  {"seconds", 3.0},
                  {"chunk_bytes", 4800},
                  {"stall_after_bytes", 9600},  // 200 ms of audio, then nothing
                  {"stall_ms", 8000}}}}});
  stt.texts = {"go ahead"};  // not "go on": a trailing "on" waits 1.2 s (turn_text.h)
  start(no_greeting());
  say();
  ASSERT_TRUE(wait_for([&] { return !leg.clips.empty(); }));
  ASSERT_TRUE(wait_for([&] { return leg.queued_samples >= 1600; }));
  // The fake clock runs: the 200 ms play out, then silence until the stall limit.
  ticks(1500 / 20 + 20);
  EXPECT_EQ(last_label(), default_phrase(AgentPhrase::kFallback, "en"));
  play_out();
  ASSERT_EQ(turns.size(), 1u);
  EXPECT_NE(turns[0].error.find("tts: no audio"), std::string::npos) << turns[0].error;
  EXPECT_EQ(agent->state(), AgentLoop::State::kListening);
}

TEST_F(AgentStreamTest, AFailedStreamWithNoAudioFallsBack) {
  fake.script({{"chat", {{{"content", "This one fails."}}}},
               {"speech", {{{"input_contains", "fails"}, {"status", 500}}}}});
  stt.texts = {"go ahead"};  // not "go on": a trailing "on" waits 1.2 s (turn_text.h)
  start(no_greeting());
  say();
  ASSERT_TRUE(wait_for([&] { return !leg.clips.empty(); }));
  EXPECT_EQ(last_label(), default_phrase(AgentPhrase::kFallback, "en"));
  play_out();
  ASSERT_EQ(turns.size(), 1u);
  EXPECT_NE(turns[0].error.find("tts: HTTP 500"), std::string::npos) << turns[0].error;
}

TEST_F(AgentStreamTest, BargeInCancelsTheStream) {
  fake.script({{"chat", {{{"content", "A long streamed answer that the caller cuts off."}}}},
               {"speech", {{{"input_contains", "cuts off"}, {"seconds", 6.0}, {"delay_ms", 20}}}}});
  stt.texts = {"tell me"};
  start(no_greeting());
  say();
  ASSERT_TRUE(wait_for([&] { return !leg.clips.empty(); }));
  ticks(5);
  ticks(40, tone_frame());
  EXPECT_EQ(leg.flushes, 1);
  ASSERT_EQ(turns.size(), 1u);
  EXPECT_TRUE(turns[0].interrupted);
  const size_t clips = leg.clips.size();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  host.run_posted();
  ticks(3);
  EXPECT_EQ(leg.clips.size(), clips);  // nothing more of the cancelled stream
}

}  // namespace
}  // namespace atende::agent
