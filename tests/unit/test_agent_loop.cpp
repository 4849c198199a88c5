// The agent loop against a fake leg and clock, a scripted recogniser, tone "speech", and
// the real ChatClient talking to tests/fake_openai (the one fake of the agent tests).
#include "test_agent_loop_fixture.h"

namespace atende::agent {
namespace {

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
  // The conversation's lines as they happened (ASP transcripts, recording.transcript).
  using Line = std::pair<Speaker, std::string>;
  EXPECT_EQ(host.transcript, (std::vector<Line>{{Speaker::kAgent, "Hello."},
                                                {Speaker::kCaller, "a table for two please"},
                                                {Speaker::kAgent, "Sure."},
                                                {Speaker::kAgent, "A table for two is booked."}}));
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

TEST_F(AgentTest, AnswerBreakingOffMidWaySaysTheFallbackAfterWhatWasSaid) {
  // Events: role, "We", " are", " open", " today.", " We", " open", " every", then an
  // error event: the first sentence is complete, the second a fragment.
  fake.script({{"chat",
                {{{"content", "We are open today. We open every day at nine."}, {"error_after", 8}},
                 {{"content", "Back again."}}}}});
  stt.texts = {"when are you open", "thanks"};
  start(settings());
  play_out();
  say();
  const std::string fallback = default_phrase(AgentPhrase::kFallback, "en");
  ASSERT_TRUE(wait_for([&] { return last_label() == fallback; })) << last_label();
  // The fragment is neither said nor kept: the caller hears the sentence, then the fallback.
  const auto labels = leg.labels();
  ASSERT_GE(labels.size(), 3u);
  EXPECT_EQ(labels[labels.size() - 2], "We are open today.");
  play_out();
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[1].agent_text, "We are open today. " + fallback);
  EXPECT_EQ(turns[1].error.rfind("llm:", 0), 0u) << turns[1].error;
  EXPECT_FALSE(turns[1].interrupted);
  EXPECT_TRUE(host.has("agent_error"));
  const auto& msgs = agent->conversation().messages();
  ASSERT_GE(msgs.size(), 2u);
  EXPECT_EQ(msgs.back().content, "We are open today.");
  // The call goes on.
  say();
  ASSERT_TRUE(wait_for([&] { return last_label() == "Back again."; }));
  EXPECT_TRUE(up());
}

TEST_F(AgentTest, AnswerBreakingOffBeforeAWholeSentenceSaysOnlyTheFallback) {
  // Events: role, "We", " open", " every", then an error event: only a fragment came.
  fake.script({{"chat", {{{"content", "We open every day at nine."}, {"error_after", 4}}}}});
  stt.texts = {"when are you open"};
  start(settings());
  play_out();
  say();
  const std::string fallback = default_phrase(AgentPhrase::kFallback, "en");
  ASSERT_TRUE(wait_for([&] { return last_label() == fallback; })) << last_label();
  EXPECT_EQ(leg.labels(), (std::vector<std::string>{"Hello.", fallback}));
  play_out();
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[1].agent_text, fallback);
  EXPECT_EQ(turns[1].error.rfind("llm:", 0), 0u) << turns[1].error;
  // Nothing was said, so no assistant message: the history ends with the caller's words.
  EXPECT_EQ(agent->conversation().messages().back().content, "when are you open");
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
  // The answer may come back while say() still ticks, and be heard before it returns.
  ASSERT_TRUE(wait_for([&] { return agent->state() >= AgentLoop::State::kEnding; }));
  play_out();
  ASSERT_EQ(leg.hangups.size(), 1u);
  EXPECT_EQ(leg.queued_at_hangup[0], 0u);  // not before the goodbye is heard
  EXPECT_EQ(last_label(), "Goodbye then.");
  EXPECT_TRUE(host.has("tool"));
}

void script_transfer(testing::FakeOpenAi& fake) {
  fake.script({{"chat",
                {{{"tool_calls",
                   {{{"id", "c1"},
                     {"name", "transfer_to_human"},
                     {"arguments", {{"reason", "angry"}}}}}}}}}});
}

TEST_F(AgentTest, TransferWithNoHumanSaysSoAndCarriesOn) {
  script_transfer(fake);
  stt.texts = {"a human please"};
  start(settings());
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return host.has("transfer_to_human"); }));
  ASSERT_GE(leg.clips.size(), 2u);
  EXPECT_EQ(leg.clips[leg.clips.size() - 2]->label, default_phrase(AgentPhrase::kHandoff, "en"));
  EXPECT_EQ(last_label(), default_phrase(AgentPhrase::kNoHuman, "en"));
  EXPECT_TRUE(host.has("transfer_failed"));
  play_out();
  ASSERT_TRUE(wait_for([&] { return agent->state() == AgentLoop::State::kListening; }));
  EXPECT_TRUE(up());
  EXPECT_TRUE(host.dials.empty());
}

TEST_F(AgentTest, TransferDialsWhileTheHandOffPlaysThenBridges) {
  script_transfer(fake);
  stt.texts = {"a human please"};
  auto s = settings();
  s.human_to = "9000";
  start(std::move(s));
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return !host.dials.empty(); }));
  EXPECT_EQ(host.dials, std::vector<std::string>{"9000"});
  EXPECT_EQ(last_label(), default_phrase(AgentPhrase::kHandoff, "en"));
  host.complete_dial({.outcome = "answered", .leg_id = "human-leg"});
  EXPECT_TRUE(host.bridged.empty());  // not before the caller heard the hand-off
  play_out();
  ASSERT_TRUE(wait_for([&] { return !host.bridged.empty(); }));
  EXPECT_EQ(host.bridged, std::vector<std::string>{"human-leg"});
  EXPECT_EQ(agent->state(), AgentLoop::State::kEnded);
  EXPECT_TRUE(leg.hangups.empty());  // the bridge goes on without the agent
}

TEST_F(AgentTest, TransferNobodyAnswersTellsTheCaller) {
  script_transfer(fake);
  stt.texts = {"a human please"};
  auto s = settings();
  s.human_to = "9000";
  start(std::move(s));
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return !host.dials.empty(); }));
  play_out();
  host.complete_dial({.outcome = "no_answer", .sip_status = 487});
  EXPECT_EQ(last_label(), default_phrase(AgentPhrase::kNoHuman, "en"));
  EXPECT_TRUE(host.has("transfer_failed"));
  EXPECT_TRUE(host.bridged.empty());
  play_out();
  ASSERT_TRUE(wait_for([&] { return agent->state() == AgentLoop::State::kListening; }));
}

TEST_F(AgentTest, TransferByReferAfterTheHandOff) {
  script_transfer(fake);
  stt.texts = {"a human please"};
  auto s = settings();
  s.human_to = "sip:desk@pbx";
  s.transfer_mode = "refer";
  start(std::move(s));
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return host.has("transfer_to_human"); }));
  EXPECT_TRUE(host.transfers.empty());
  play_out();
  ASSERT_TRUE(wait_for([&] { return !host.transfers.empty(); }));
  EXPECT_EQ(host.transfers, std::vector<std::string>{"sip:desk@pbx"});
  host.transfer_done(200);
  EXPECT_EQ(agent->state(), AgentLoop::State::kEnded);
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
