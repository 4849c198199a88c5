// The agent loop against a fake leg and clock, a scripted recogniser, tone "speech", and
// the real ChatClient talking to tests/fake_openai (the one fake of the agent tests).
#include <gtest/gtest.h>

#include <cmath>
#include <mutex>
#include <thread>

#include "agent/agent_loop.h"
#include "agent/agent_phrases.h"
#include "test_flow_fakes.h"
#include "test_llm_fake_openai.h"

namespace atende::agent {
namespace {

using flow::testing::FakeLeg;
using flow::testing::FakePhrases;

// Loud frames are speech: the tests decide what the caller says, not a model.
class LevelVad : public audio::Vad {
 public:
  int sample_rate() const override { return 8000; }
  void reset() override {}

 protected:
  Verdict detect(std::span<const int16_t>, double level_dbfs) override {
    return {level_dbfs > -40, level_dbfs > -40 ? 1.0f : 0.0f};
  }
};

// Every phrase is "cached": a tone clip 10 ms per character, ready at once.
class InstantPhrases : public FakePhrases {
 public:
  ClipPtr cached(const speech::Phrase& p) override { return make_clip(p); }
};

// Answers every request at once with the next scripted text ("" when none left).
class ScriptedStt : public speech::Recognizer {
 public:
  void recognize(speech::RecognitionRequest req, speech::RecognitionCallback done) override {
    ++requests;
    last_samples = req.pcm ? req.pcm->size() : 0;
    speech::Recognition r;
    r.ok = !fail;
    r.error = fail ? "boom" : "";
    r.engine = "scripted";
    if (!texts.empty()) {
      r.text = texts.front();
      texts.erase(texts.begin());
    }
    done(std::move(r));
  }
  bool uses_grammar() const override { return false; }
  std::vector<std::string> texts;
  int requests = 0;
  size_t last_samples = 0;
  bool fail = false;
};

// post() is called from the HTTP thread: a locked queue the test drains.
class Host : public flow::FlowHost {
 public:
  Host(FakeLeg& leg, FakePhrases& phrases) : leg_(leg), phrases_(phrases) {}
  Leg& leg() override { return leg_; }
  const flow::CallInfo& call() const override { return info_; }
  speech::PhraseSource& phrases() override { return phrases_; }
  void post(std::function<void()> fn) override {
    std::lock_guard lock(mu_);
    posted_.push_back(std::move(fn));
  }
  void record_event(std::string_view kind, std::string_view detail) override {
    events.emplace_back(std::string(kind), std::string(detail));
  }
  void record_digits(std::string_view) override {}
  size_t run_posted() {
    std::deque<std::function<void()>> work;
    {
      std::lock_guard lock(mu_);
      work.swap(posted_);
    }
    for (auto& fn : work) fn();
    return work.size();
  }
  bool has(std::string_view kind) const {
    for (auto& e : events) {
      if (e.first == kind) return true;
    }
    return false;
  }
  std::vector<std::pair<std::string, std::string>> events;

 private:
  FakeLeg& leg_;
  FakePhrases& phrases_;
  flow::CallInfo info_{"call-1", "sip:alice@127.0.0.1", "sip:bot@127.0.0.1", "bot"};
  std::mutex mu_;
  std::deque<std::function<void()>> posted_;
};

AudioFrame tone_frame() {
  AudioFrame f = AudioFrame::silence();
  for (int i = 0; i < f.samples; ++i)
    f.pcm[i] = int16_t(8000 * std::sin(2 * M_PI * 200 * i / 8000.0));
  return f;
}

struct AgentTest : ::testing::Test {
  testing::FakeOpenAi fake;
  net::HttpClient http;
  llm::ChatClient chat{http, [this] {
                         llm::ChatClientOptions o;
                         o.base_url = fake.base_url();
                         o.model = "test-model";
                         o.api_key = "k";
                         o.max_retries = 0;
                         return o;
                       }()};
  FakeLeg leg;
  InstantPhrases phrases;
  Host host{leg, phrases};
  ScriptedStt stt;
  MonoTime now{};
  std::vector<AgentTurn> turns;
  std::unique_ptr<AgentLoop> agent;

  AgentSettings settings() {
    AgentSettings s;
    s.name = "tester";
    s.system_prompt = "You are a test.";
    s.greeting = "Hello.";
    s.tools = llm::builtin_tools();
    return s;
  }
  void start(AgentSettings s, bool with_chat = true) {
    AgentEngines e;
    e.stt = &stt;
    e.chat = with_chat ? &chat : nullptr;
    e.make_vad = [](int) { return std::make_unique<LevelVad>(); };
    e.on_turn = [this](const AgentTurn& t) { turns.push_back(t); };
    e.clock = [this] { return now; };
    agent = std::make_unique<AgentLoop>(host, std::move(s), std::move(e));
    agent->start(now);
  }
  bool up() const { return leg.hangups.empty(); }
  std::string last_label() const { return leg.clips.empty() ? "" : leg.clips.back()->label; }
  void tick(const AudioFrame& heard = AudioFrame::silence()) {
    if (!up()) return;
    now += Millis(20);
    bool idle = leg.advance();
    host.run_posted();
    if (idle) agent->on_playout_idle(now);
    agent->on_frame(heard, now);
  }
  void ticks(int n, const AudioFrame& heard = AudioFrame::silence()) {
    for (int i = 0; i < n; ++i) tick(heard);
  }
  // Real time passes (the HTTP thread works), the fake clock does not: no timed assertion.
  bool wait_for(const std::function<bool()>& pred) {
    for (int i = 0; i < 20000; ++i) {
      host.run_posted();
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }
  void play_out() {
    for (int i = 0; i < 5000 && leg.playing() && up(); ++i) tick();
    tick();
  }
  // The caller says something (tone) and then is silent long enough to end the turn.
  void say(int ms = 600) {
    ticks(ms / 20, tone_frame());
    ticks(40);
  }
};

TEST_F(AgentTest, GreetsThenAnswersWhatTheCallerSaid) {
  fake.script({{"chat", {{{"content", "Sure. A table for two is booked."}}}}});
  stt.texts = {"a table for two please"};
  start(settings());
  ASSERT_EQ(leg.labels(), std::vector<std::string>{"Hello."});
  play_out();
  ASSERT_EQ(turns.size(), 1u);  // the greeting
  EXPECT_EQ(turns[0].agent_text, "Hello.");
  say();
  EXPECT_EQ(stt.requests, 1);
  EXPECT_GT(stt.last_samples, 600u * 8);  // the whole utterance went to the recogniser
  ASSERT_TRUE(wait_for([&] { return leg.clips.size() >= 3; }));
  play_out();
  EXPECT_EQ(leg.labels(),
            (std::vector<std::string>{"Hello.", "Sure.", "A table for two is booked."}));
  ASSERT_EQ(turns.size(), 2u);
  const AgentTurn& t = turns[1];
  EXPECT_EQ(t.index, 1);
  EXPECT_EQ(t.user_text, "a table for two please");
  EXPECT_EQ(t.agent_text, "Sure. A table for two is booked.");
  EXPECT_FALSE(t.interrupted);
  EXPECT_EQ(t.error, "");
  EXPECT_GT(t.speech_end_ms, 0);
  EXPECT_GE(t.stt_final_ms, t.speech_end_ms);
  EXPECT_GE(t.first_token_ms, t.stt_final_ms);
  EXPECT_GE(t.first_audio_ms, t.first_token_ms);
  EXPECT_GE(t.first_play_ms, t.first_audio_ms);
  // The model got the system prompt, the greeting and the caller's words, and tools.
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 1u);
  auto& msgs = reqs[0]["json"]["messages"];
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0]["content"], "You are a test.");
  EXPECT_EQ(msgs[1]["content"], "Hello.");
  EXPECT_EQ(msgs[2]["content"], "a table for two please");
  EXPECT_EQ(reqs[0]["json"]["tools"].size(), 3u);
  EXPECT_EQ(agent->state(), AgentLoop::State::kListening);
  EXPECT_TRUE(up());
}

TEST_F(AgentTest, ProviderErrorPlaysTheFallbackAndRecordsIt) {
  fake.script({{"chat", {{{"status", 500}}, {{"content", "Back again."}}}}});
  stt.texts = {"hello", "hello again"};
  start(settings());
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return leg.clips.size() >= 2; }));
  EXPECT_EQ(last_label(), default_phrase(AgentPhrase::kFallback, "en"));
  play_out();
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_NE(turns[1].error.find("llm"), std::string::npos) << turns[1].error;
  EXPECT_EQ(turns[1].user_text, "hello");
  // The call goes on: the next turn is answered.
  say();
  ASSERT_TRUE(wait_for([&] { return last_label() == "Back again."; }));
  EXPECT_TRUE(up());
}

TEST_F(AgentTest, NoFirstTokenInTimeFallsBack) {
  fake.script({{"chat", {{{"content", "Too late."}, {"delay_first_ms", 3000}}}}});
  stt.texts = {"hello"};
  start(settings());
  play_out();
  say();
  // The fake clock passes the 2 s limit while the server sits on its answer.
  ticks(2000 / 20 + 1);
  EXPECT_EQ(last_label(), default_phrase(AgentPhrase::kFallback, "en"));
  play_out();
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_NE(turns[1].error.find("first token"), std::string::npos);
  EXPECT_LT(turns[1].first_token_ms, 0);
}

TEST_F(AgentTest, RecognizerFailureFallsBack) {
  stt.fail = true;
  start(settings());
  play_out();
  say();
  EXPECT_EQ(last_label(), default_phrase(AgentPhrase::kFallback, "en"));
  play_out();
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[1].error, "stt: boom");
  EXPECT_TRUE(fake.requests().empty());  // no LLM call for a failed recognition
}

TEST_F(AgentTest, BargeInStopsPlaybackAndKeepsOnlyWhatWasHeard) {
  const std::string long_answer =
      "Our menu today has many dishes. There is soup and there is fish and there is a very "
      "long list of desserts that I will now read to you one by one.";
  fake.script({{"chat", {{{"content", long_answer}}, {{"content", "Okay."}}}}});
  stt.texts = {"what is on the menu", "stop"};
  start(settings());
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return leg.clips.size() >= 3; }));
  ticks(10);  // the start of the answer is heard
  ASSERT_TRUE(leg.playing());
  // The caller talks over it long enough to interrupt (no text: length alone).
  ticks(40, tone_frame());
  EXPECT_EQ(leg.flushes, 1);
  EXPECT_FALSE(leg.playing());
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_TRUE(turns[1].interrupted);
  EXPECT_FALSE(turns[1].agent_text.empty());
  EXPECT_LT(turns[1].agent_text.size(), long_answer.size());
  // The history keeps only the heard part (plus the interruption mark).
  const auto& last = agent->conversation().messages().back();
  EXPECT_EQ(last.role, llm::Role::Assistant);
  EXPECT_EQ(last.content.rfind(turns[1].agent_text, 0), 0u) << last.content;
  EXPECT_LT(last.content.size(), long_answer.size());
  // The rest of the caller's utterance ends the turn and the agent answers again.
  ticks(40);
  ASSERT_TRUE(wait_for([&] { return last_label() == "Okay."; }));
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1]["json"]["messages"].back()["content"], "stop");
}

TEST_F(AgentTest, ShortNoiseDoesNotInterrupt) {
  fake.script({{"chat", {{{"content", "This is a long enough answer to talk over it."}}}}});
  stt.texts = {"hi"};
  start(settings());
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return leg.clips.size() >= 2; }));
  ticks(5);
  ticks(5, tone_frame());  // 100 ms: a click, not a voice
  ticks(5);
  EXPECT_EQ(leg.flushes, 0);
  play_out();
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_FALSE(turns[1].interrupted);
}

TEST_F(AgentTest, EndCallSaysGoodbyeThenHangsUp) {
  fake.script(
      {{"chat",
        {{{"content", "Goodbye then."},
          {"tool_calls",
           {{{"id", "c1"}, {"name", "end_call"}, {"arguments", {{"reason", "done"}}}}}}}}}});
  stt.texts = {"that is all"};
  start(settings());
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return agent->state() == AgentLoop::State::kEnding; }));
  EXPECT_TRUE(up());  // not before the goodbye is heard
  play_out();
  ASSERT_EQ(leg.hangups.size(), 1u);
  EXPECT_EQ(last_label(), "Goodbye then.");
  EXPECT_TRUE(host.has("tool"));
}

TEST_F(AgentTest, TransferPlaysTheHandOffAndRecordsIt) {
  fake.script({{"chat",
                {{{"tool_calls",
                   {{{"id", "c1"},
                     {"name", "transfer_to_human"},
                     {"arguments", {{"reason", "angry"}}}}}}}}}});
  stt.texts = {"a human please"};
  start(settings());
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return host.has("transfer_to_human"); }));
  EXPECT_EQ(last_label(), default_phrase(AgentPhrase::kHandoff, "en"));
  play_out();
  ASSERT_TRUE(wait_for([&] { return agent->state() == AgentLoop::State::kListening; }));
  EXPECT_TRUE(up());
}

TEST_F(AgentTest, NotConfiguredSaysSoAndHangsUp) {
  start(settings(), false);
  EXPECT_EQ(last_label(), default_phrase(AgentPhrase::kNotConfigured, "en"));
  play_out();
  EXPECT_EQ(leg.hangups.size(), 1u);
}

TEST_F(AgentTest, SilenceRepromptsThenSaysGoodbye) {
  auto s = settings();
  s.no_input = Millis(1000);
  s.max_no_input = 1;
  start(std::move(s));
  play_out();
  ticks(1000 / 20);
  EXPECT_EQ(last_label(), default_phrase(AgentPhrase::kReprompt, "en"));
  play_out();
  ticks(1000 / 20);
  EXPECT_EQ(last_label(), default_phrase(AgentPhrase::kGoodbye, "en"));
  play_out();
  EXPECT_EQ(leg.hangups.size(), 1u);
  EXPECT_TRUE(fake.requests().empty());
}

TEST_F(AgentTest, PortugueseDefaults) {
  EXPECT_EQ(default_phrase(AgentPhrase::kFallback, "pt-br"),
            "Desculpe, não entendi. Pode repetir?");
  EXPECT_EQ(default_phrase(AgentPhrase::kFallback, "en-us"),
            "Sorry, I did not catch that, could you repeat?");
}

}  // namespace
}  // namespace atende::agent
