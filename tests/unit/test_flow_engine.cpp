// The scripted flow engine driven through fakes on a fake clock (see test_flow_fakes.h).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <ctime>

#include "flow/scripted_flow.h"
#include "test_flow_fakes.h"

namespace atende::flow::testing {
namespace {

const std::string kWelcome =
    "Welcome to atende. Say or press 1 for sales, 2 for support, 3 for the echo test, or 0 for an "
    "operator.";
const std::string kGoodbye = "Thank you for calling. Goodbye.";

TEST(FlowEngine, MenuChoiceSayThenHangup) {
  Harness h;
  ASSERT_TRUE(h.start(shipped_flows(), "ivr"));
  ASSERT_EQ(h.leg.labels(), std::vector<std::string>{kWelcome});  // cached: plays at once
  h.play_out();
  h.press('1');
  EXPECT_EQ(h.last_label().rfind("You chose sales.", 0), 0u);
  h.play_out();
  EXPECT_EQ(h.last_label(), kGoodbye);
  EXPECT_TRUE(h.leg.hangups.empty());  // not before the goodbye has been heard
  h.play_out();
  ASSERT_EQ(h.leg.hangups.size(), 1u);
  EXPECT_EQ(h.leg.hangups[0], "flow: goodbye");
  EXPECT_TRUE(h.host.has("step", "menu"));
  EXPECT_TRUE(h.host.has("choice", "1 sales"));
  EXPECT_TRUE(h.host.has("step", "sales"));
  EXPECT_TRUE(h.host.has("hangup", "flow: goodbye"));
  EXPECT_EQ(h.host.digits, std::vector<std::string>{"1"});
  EXPECT_EQ(h.phrases.fetches, 0);  // every fixed phrase was prepared at load
}

TEST(FlowEngine, DtmfDuringPromptFlushesAndCounts) {
  Harness h;
  ASSERT_TRUE(h.start(shipped_flows(), "ivr"));
  h.run_for(Millis(200));
  ASSERT_TRUE(h.leg.playing());
  h.press('2');
  EXPECT_EQ(h.leg.flushes, 1);
  EXPECT_EQ(h.last_label().rfind("You chose support.", 0), 0u);
  EXPECT_TRUE(h.host.has("choice", "2 support"));
}

TEST(FlowEngine, NoInputRepromptsAfterTimeoutThenFails) {
  Harness h;
  ASSERT_TRUE(h.start(shipped_flows(), "ivr"));
  h.play_out();
  h.run_for(Millis(4900));  // timeout is 5 s after the prompt ended
  EXPECT_EQ(h.leg.clips.size(), 1u);
  h.run_for(Millis(200));
  ASSERT_EQ(h.leg.clips.size(), 3u);
  EXPECT_EQ(h.leg.clips[1]->label, "Sorry, I did not hear your choice.");
  EXPECT_EQ(h.leg.clips[2]->label, kWelcome);
  // retries: 2 -> three prompts in all, then on_failure: goodbye.
  for (int i = 0; i < 2; ++i) {
    h.play_out();
    h.run_for(Millis(5100));
  }
  EXPECT_EQ(h.last_label(), kGoodbye);
  h.play_out();
  EXPECT_EQ(h.leg.hangups.size(), 1u);
  EXPECT_EQ(h.host.count("no_input"), 3);
  EXPECT_TRUE(h.host.has("failure", "menu"));
  EXPECT_TRUE(h.host.has("counts", "no_input=3 invalid=0"));
  EXPECT_EQ(h.host.digits, std::vector<std::string>{""});
}

TEST(FlowEngine, InvalidDigitApologisesAndReprompts) {
  Harness h;
  ASSERT_TRUE(h.start(shipped_flows(), "ivr"));
  h.play_out();
  h.press('7');
  ASSERT_EQ(h.leg.clips.size(), 3u);
  EXPECT_EQ(h.leg.clips[1]->label, "Sorry, that is not a valid option.");
  EXPECT_EQ(h.leg.clips[2]->label, kWelcome);
  h.press('0');
  EXPECT_TRUE(h.host.has("invalid", "7"));
  EXPECT_TRUE(h.host.has("choice", "0 operator"));
  h.press('1');  // while the operator is dialled: only logged
  h.host.finish_dial("failed", 0);
  h.play_out();
  h.play_out();
  h.press('1');
  h.play_out();
  h.play_out();
  EXPECT_TRUE(h.host.has("counts", "no_input=0 invalid=1"));
  EXPECT_EQ(h.host.digits, (std::vector<std::string>{"7", "70", "701", "7011"}));
}

TEST(FlowEngine, OperatorIsDialledAndBridged) {
  Harness h;
  ASSERT_TRUE(h.start(shipped_flows(), "ivr"));
  h.press('0');
  ASSERT_EQ(h.host.dials.size(), 1u);
  EXPECT_EQ(h.host.dials[0].request.to, "9000");
  EXPECT_EQ(h.last_label(), "Please hold while we transfer you to an operator.");
  h.host.finish_dial("answered", 200, "leg-2");
  h.play_out();
  ASSERT_EQ(h.host.bridges.size(), 1u);
  EXPECT_EQ(h.host.bridges[0].leg_id, "leg-2");
  EXPECT_FALSE(h.host.bridges[0].keep_flow);  // the call ends when either side hangs up
  EXPECT_TRUE(h.leg.hangups.empty());
}

TEST(FlowEngine, NoOperatorGoesBackToTheMenu) {
  Harness h;
  ASSERT_TRUE(h.start(shipped_flows(), "ivr"));
  h.press('0');
  h.host.finish_dial("busy", 486);
  EXPECT_EQ(h.last_label(), "Please hold while we transfer you to an operator.");
  h.play_out();
  EXPECT_EQ(h.last_label(), "Sorry, no operator is available right now.");
  h.play_out();
  EXPECT_EQ(h.last_label(), kWelcome);
  EXPECT_TRUE(h.host.bridges.empty());
}

TEST(FlowEngine, EchoReturnsWhatIsHeardUntilStopDigit) {
  Harness h;
  ASSERT_TRUE(h.start(shipped_flows(), "echo"));
  h.play_out();
  size_t before = h.leg.frames.size();
  AudioFrame heard = AudioFrame::silence();
  for (int i = 0; i < heard.samples; ++i) heard.pcm[i] = static_cast<int16_t>(i * 7 - 500);
  h.tick(heard);
  ASSERT_EQ(h.leg.frames.size(), before + 1);
  EXPECT_EQ(0, std::memcmp(h.leg.frames.back().pcm.data(), heard.pcm.data(),
                           heard.samples * sizeof(int16_t)));
  h.press('5');  // not the stop digit: still echoing
  h.tick(heard);
  EXPECT_EQ(h.leg.frames.size(), before + 2);
  h.press('#');
  EXPECT_EQ(h.last_label(), "Echo test finished. Goodbye.");
  h.tick(heard);
  EXPECT_EQ(h.leg.frames.size(), before + 2);  // no echo after the stop digit
  h.play_out();
  EXPECT_EQ(h.leg.hangups.size(), 1u);
  EXPECT_TRUE(h.host.has("echo", "stop digit"));
}

TEST(FlowEngine, EchoEndsAtMaxDuration) {
  Harness h;
  ASSERT_TRUE(h.start(example_flows(), "example-echo"));
  h.play_out();
  h.run_for(Millis(59000));
  EXPECT_FALSE(h.host.has("echo", "max duration"));
  h.run_for(Millis(2000));
  EXPECT_TRUE(h.host.has("echo", "max duration"));
}

TEST(FlowEngine, CollectEndsAtTerminator) {
  Harness h;
  ASSERT_TRUE(h.start(example_flows(), "example-collect"));
  h.run_for(Millis(100));
  h.press("1234#");
  auto* flow = static_cast<ScriptedFlow*>(h.flow.get());
  EXPECT_EQ(flow->variables().at("account"), "1234");
  EXPECT_TRUE(h.host.has("collected", "account=1234"));
  // The thank-you names the digits, so it is synthesised now, not at load.
  ASSERT_EQ(h.phrases.pending.size(), 1u);
  h.phrases.complete_all();
  h.tick();
  EXPECT_EQ(h.last_label(), "Thank you. You entered 1 2 3 4.");
}

TEST(FlowEngine, CollectEndsAfterInterDigitTimeout) {
  Harness h;
  ASSERT_TRUE(h.start(example_flows(), "example-collect"));
  h.play_out();
  h.press("12345");
  h.run_for(Millis(2900));
  EXPECT_EQ(h.host.count("collected"), 0);
  h.run_for(Millis(200));
  EXPECT_TRUE(h.host.has("collected", "account=12345"));
}

TEST(FlowEngine, CollectTooFewDigitsIsInvalidAndMaxDigitsCompletes) {
  Harness h;
  ASSERT_TRUE(h.start(example_flows(), "example-collect"));
  h.play_out();
  h.press("12#");
  EXPECT_TRUE(h.host.has("invalid", "12"));
  EXPECT_EQ(h.leg.clips[h.leg.clips.size() - 2]->label, "That account number is too short.");
  h.press("87654321");  // max_digits: 8 completes without a terminator
  EXPECT_TRUE(h.host.has("collected", "account=87654321"));
}

TEST(FlowEngine, SayTimeSpeaksLocalTime) {
  setenv("TZ", "UTC", 1);
  tzset();
  Harness h;
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 2;
  tm.tm_mday = 1;
  tm.tm_hour = 17;
  tm.tm_min = 42;
  h.host.wall = std::chrono::system_clock::from_time_t(timegm(&tm));
  ASSERT_TRUE(h.start(shipped_flows(), "time"));
  // Dynamic text is not cached: nothing plays until the worker has synthesised it.
  EXPECT_TRUE(h.leg.clips.empty());
  ASSERT_EQ(h.phrases.pending.size(), 1u);
  EXPECT_EQ(h.phrases.pending[0].first.text, "The time is 5 42 PM.");
  h.phrases.complete_all();
  h.tick();
  EXPECT_EQ(h.last_label(), "The time is 5 42 PM.");
  h.play_out();
  EXPECT_EQ(h.last_label(), "Goodbye.");
}

TEST(FlowEngine, UncachedPromptIsFetchedAndPlayedInOrder) {
  Harness h;
  ASSERT_TRUE(h.start(shipped_flows(), "ivr", /*prepare=*/false));
  EXPECT_TRUE(h.leg.clips.empty());
  h.phrases.complete_all();
  h.tick();
  ASSERT_EQ(h.leg.labels(), std::vector<std::string>{kWelcome});
  h.play_out();
  h.run_for(Millis(5100));  // no input: apology and prompt, fetched one after the other
  EXPECT_EQ(h.phrases.pending.size(), 1u);
  h.phrases.complete_all();
  h.tick();
  h.phrases.complete_all();
  h.tick();
  ASSERT_EQ(h.leg.clips.size(), 3u);
  EXPECT_EQ(h.leg.clips[1]->label, "Sorry, I did not hear your choice.");
  EXPECT_EQ(h.leg.clips[2]->label, kWelcome);
}

TEST(FlowEngine, BargeInDropsFetchStillInFlight) {
  Harness h;
  ASSERT_TRUE(h.start(shipped_flows(), "ivr", /*prepare=*/false));
  h.press('1');              // answer before the prompt was even synthesised
  h.phrases.complete_all();  // the stale welcome and the sales text
  h.tick();
  ASSERT_EQ(h.leg.clips.size(), 1u);
  EXPECT_EQ(h.last_label().rfind("You chose sales.", 0), 0u);
}

TEST(FlowEngine, SynthesisFailureSkipsThePhrase) {
  Harness h;
  h.phrases.fail_all = true;
  ASSERT_TRUE(h.start(example_flows(), "example-say", /*prepare=*/false));
  for (int i = 0; i < 5; ++i) {
    h.phrases.complete_all();
    h.tick();
  }
  EXPECT_TRUE(h.host.has("tts_error", "Hello. This call is answered by atende."));
  EXPECT_EQ(h.leg.hangups.size(), 1u);  // the flow still reaches its end
}

TEST(FlowEngine, CallerHangupMidStepStopsAllLegCalls) {
  Harness h;
  ASSERT_TRUE(h.start(shipped_flows(), "ivr", /*prepare=*/false));
  h.tick();
  int calls = h.leg.calls;
  h.caller_hangup("BYE");
  h.phrases.complete_all();  // a synthesis finishing after the hang-up
  h.host.run_posted();
  h.flow->on_frame(AudioFrame::silence(), h.now + Millis(20));
  h.flow->on_dtmf('1', h.now + Millis(40));
  h.flow->on_playout_idle(h.now + Millis(60));
  EXPECT_EQ(h.leg.calls, calls);
  EXPECT_TRUE(h.host.has("hangup", "caller: BYE"));
  EXPECT_EQ(h.host.digits.size(), 1u);
}

TEST(FlowEngine, FetchCompletingAfterFlowDestroyedIsHarmless) {
  Harness h;
  ASSERT_TRUE(h.start(shipped_flows(), "ivr", /*prepare=*/false));
  h.caller_hangup("BYE");
  h.flow.reset();
  h.phrases.complete_all();  // the worker finishes late: it must not even post
  EXPECT_TRUE(h.host.posted.empty());
  h.host.run_posted();
  EXPECT_TRUE(h.leg.clips.empty());
}

TEST(FlowEngine, DigitsDuringSayAreLoggedNotActedOn) {
  Harness h;
  ASSERT_TRUE(h.start(example_flows(), "example-say"));
  h.press('9');
  EXPECT_EQ(h.leg.flushes, 0);
  h.play_out();
  h.play_out();
  EXPECT_EQ(h.leg.hangups.size(), 1u);
  EXPECT_EQ(h.host.digits, std::vector<std::string>{"9"});
}

}  // namespace
}  // namespace atende::flow::testing
