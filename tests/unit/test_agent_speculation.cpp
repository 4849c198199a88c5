// Speculative end of turn (agent/speculation.h): the answer starts at a short pause, is
// adopted when the turn ends there, and is cancelled (the fake sees the request closed)
// when the caller goes on. Fake clock: no timed assertion, counts of 20 ms frames only.
#include "test_agent_loop_fixture.h"

namespace atende::agent {
namespace {

using SpeculationTest = AgentTest;

TEST_F(SpeculationTest, AClosedQuestionEndsTheTurnSoonerAndTheAnswerIsAdopted) {
  fake.script({{"chat", {{{"content", "We open at nine."}}}}});
  stt.texts = {"What time do you open?"};
  start(settings());
  play_out();
  ticks(30, tone_frame());
  const int frames = frames_until_turn_ends();
  // The default wait is 600 ms (30 frames); a closed sentence waits end_silence_complete.
  EXPECT_GT(frames, 0);
  EXPECT_LE(frames, 350 / 20 + 2);
  ASSERT_TRUE(wait_for([&] { return leg.clips.size() >= 2; }));
  play_out();
  EXPECT_EQ(leg.labels(), (std::vector<std::string>{"Hello.", "We open at nine."}));
  EXPECT_EQ(stt.requests, 1);  // recognised once, at the pause: not again at the end
  EXPECT_EQ(fake.requests().size(), 1u);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].used);
  EXPECT_TRUE(reports[0].chat);
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[1].user_text, "What time do you open?");
  EXPECT_EQ(turns[1].agent_text, "We open at nine.");
  EXPECT_GE(turns[1].first_play_ms, turns[1].speech_end_ms);
}

TEST_F(SpeculationTest, CallerWhoGoesOnCancelsTheSpeculativeRequest) {
  fake.script({{"chat",
                {{{"content", "This answer is never heard."}, {"delay_first_ms", 10000}},
                 {{"content", "Booked for four."}}}}});
  stt.texts = {"I'd like to book a table for", "I'd like to book a table for four people."};
  stt.repeat_same_utterance = false;  // more of the sentence, more words
  start(settings());
  play_out();
  ticks(30, tone_frame());
  ticks(12);  // 240 ms: past the short pause; "for" asks for a longer wait
  ASSERT_TRUE(wait_for([&] { return fake.requests().size() == 1; }));
  EXPECT_EQ(agent->state(), AgentLoop::State::kListening);
  ticks(25, tone_frame());  // "... four people"
  ASSERT_TRUE(wait_for([&] { return fake.requests()[0].value("aborted", false); }));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_FALSE(reports[0].used);
  EXPECT_TRUE(reports[0].chat);
  ticks(40);
  ASSERT_TRUE(wait_for([&] { return leg.clips.size() >= 2; }));
  play_out();
  EXPECT_EQ(leg.labels(), (std::vector<std::string>{"Hello.", "Booked for four."}));
  ASSERT_EQ(turns.size(), 2u);  // one answer, after the whole sentence
  EXPECT_EQ(turns[1].user_text, "I'd like to book a table for four people.");
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2u);
  auto& msgs = reqs[1]["json"]["messages"];
  ASSERT_EQ(msgs.size(), 3u);  // system, greeting, the whole sentence: no trace of the first
  EXPECT_EQ(msgs[2]["content"], "I'd like to book a table for four people.");
  EXPECT_EQ(used(), 1);
  EXPECT_EQ(wasted(), 1);
  EXPECT_EQ(agent->conversation().messages().size(), 4u);
}

TEST_F(SpeculationTest, ToolCallsWaitForTheTurnToBeConfirmed) {
  // The speculative answer ends the call; the caller goes on, so nothing may act on it.
  fake.script({{"chat",
                {{{"content", "Goodbye."},
                  {"tool_calls", {{{"name", "end_call"}, {"arguments", "{\"reason\":\"done\"}"}}}},
                  {"delay_ms", 50}},
                 {{"content", "Of course, go on."}}}}});
  stt.texts = {"that is all", "that is all, no wait, one more thing"};
  stt.repeat_same_utterance = false;
  start(settings());
  play_out();
  ticks(30, tone_frame());
  ticks(12);
  ASSERT_TRUE(wait_for([&] { return fake.requests().size() == 1; }));
  ticks(25, tone_frame());
  ticks(40);
  ASSERT_TRUE(wait_for([&] { return leg.clips.size() >= 2; }));
  play_out();
  EXPECT_TRUE(up());
  EXPECT_FALSE(host.has("tool"));
  EXPECT_EQ(leg.labels(), (std::vector<std::string>{"Hello.", "Of course, go on."}));
  EXPECT_EQ(wasted(), 1);
}

TEST_F(SpeculationTest, OffRecognisesOnlyAtTheEndOfTheTurn) {
  fake.script({{"chat", {{{"content", "We open at nine."}}}}});
  stt.texts = {"What time do you open?"};
  AgentSettings s = settings();
  s.speculative = false;
  start(s);
  play_out();
  ticks(30, tone_frame());
  const int frames = frames_until_turn_ends();
  EXPECT_GE(frames, 600 / 20);  // the fixed wait: no words to go on at the pause
  ASSERT_TRUE(wait_for([&] { return leg.clips.size() >= 2; }));
  EXPECT_EQ(stt.requests, 1);
  EXPECT_TRUE(reports.empty());
}

}  // namespace
}  // namespace atende::agent
