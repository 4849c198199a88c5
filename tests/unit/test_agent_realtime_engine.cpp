// The Realtime engine on a fake leg, with the test playing the Realtime I/O thread: it
// pushes server events and answer audio into the Bridge and reads the engine's commands.
// No socket, no threads, no clock: every frame is one on_frame call.
#include <gtest/gtest.h>

#include <cmath>

#include "agent/agent_phrases.h"
#include "agent/realtime_engine.h"
#include "test_flow_fakes.h"
#include "test_level_vad.h"

namespace atende::agent {
namespace {

using flow::testing::FakeHost;
using flow::testing::FakeLeg;
using flow::testing::FakePhrases;
using realtime::Command;
using realtime::EventType;

// Loud frames are speech (local VAD tests decide what the caller says, not a model).
using atende::testing::LevelVad;
using atende::testing::tone_frame;

struct RealtimeEngineTest : ::testing::Test {
  FakeLeg leg;
  FakePhrases phrases;
  FakeHost host{leg, phrases};
  std::shared_ptr<realtime::Bridge> bridge;
  std::vector<AgentTurn> turns;
  std::vector<SpeculationReport> speculations;
  MonoTime now{};
  std::unique_ptr<RealtimeEngine> engine;

  void start(bool server_vad, AgentSettings s = {}) {
    s.name = "rt";
    RealtimeEngines e;
    e.open = [this](int rate) { return bridge = std::make_shared<realtime::Bridge>(rate); };
    e.on_turn = [this](const AgentTurn& t) { turns.push_back(t); };
    e.on_speculation = [this](const SpeculationReport& r) { speculations.push_back(r); };
    e.make_vad = [](int) { return std::make_unique<LevelVad>(); };
    engine = std::make_unique<RealtimeEngine>(host, s, server_vad, std::move(e));
    engine->start(now);
  }
  void frames(int n, const AudioFrame& f = AudioFrame::silence()) {
    for (int i = 0; i < n; ++i) {
      now += Millis(20);
      engine->on_frame(f, now);
      leg.executor().timers()->run_due(now);  // as the media worker does after the ticks
    }
  }
  void event(EventType type, std::string response_id = "", std::string text = "",
             std::string status = "") {
    realtime::EngineEvent e;
    e.event.type = type;
    e.event.response_id = std::move(response_id);
    e.event.text = std::move(text);
    e.event.status = std::move(status);
    ASSERT_TRUE(bridge->push_event(std::move(e)));
  }
  // `seconds` of answer audio (8 kHz) for item `item` of `response`.
  void audio(const std::string& response, const std::string& item, double seconds) {
    output_item(response, item);
    realtime::EngineEvent e;
    e.audio_start = true;
    e.ring_pos = bridge->answer_pushed();
    e.event.item_id = item;
    e.event.response_id = response;
    ASSERT_TRUE(bridge->push_event(std::move(e)));
    std::vector<int16_t> pcm(size_t(seconds * 8000), 1000);
    bridge->push_answer(response, pcm.data(), pcm.size());
  }
  // A whole response: created, `seconds` of audio for `item`, its transcript, done.
  void respond(const std::string& response, const std::string& item, double seconds,
               const std::string& text) {
    event(EventType::kResponseCreated, response);
    audio(response, item, seconds);
    event(EventType::kTranscriptDone, response, text);
    event(EventType::kResponseDone, response, "", "completed");
  }
  // response.output_item.added
  void output_item(const std::string& response, const std::string& item) {
    realtime::EngineEvent e;
    e.event.type = EventType::kOutputItem;
    e.event.response_id = response;
    e.event.item_id = item;
    ASSERT_TRUE(bridge->push_event(std::move(e)));
  }
  // The model calls `name` in response `response` (output item `item`).
  void function_call(const std::string& response, const std::string& item,
                     const std::string& call_id, const std::string& name,
                     const std::string& arguments) {
    output_item(response, item);
    realtime::EngineEvent call;
    call.event.type = EventType::kFunctionCall;
    call.event.response_id = response;
    call.event.item_id = item;
    call.event.call_id = call_id;
    call.event.name = name;
    call.event.text = arguments;
    ASSERT_TRUE(bridge->push_event(std::move(call)));
  }
  // The caller speaks `speech_frames` of 20 ms, then is silent for `silence_frames`.
  void caller(int speech_frames, int silence_frames) {
    frames(speech_frames, tone_frame());
    frames(silence_frames);
  }
  // The caller pauses; the response asked there calls send_dtmf "12" (item fc1) and is over.
  void speculative_dtmf_call() {
    AgentSettings s;
    s.tools.push_back(llm::send_dtmf_tool());
    start(false, s);
    caller(40, 12);
    ASSERT_EQ(commands().size(), 1u);
    event(EventType::kResponseCreated, "r1");
    function_call("r1", "fc1", "call_1", "send_dtmf", R"({"digits":"12"})");
    event(EventType::kResponseDone, "r1", "", "completed");
    frames(2);
  }
  // The model calls transfer_to_human in response `response`.
  void transfer_call(const std::string& response, const std::string& call_id) {
    realtime::EngineEvent call;
    call.event.type = EventType::kFunctionCall;
    call.event.response_id = response;
    call.event.call_id = call_id;
    call.event.name = "transfer_to_human";
    call.event.text = R"({"department":"sales","reason":"asked for a person"})";
    ASSERT_TRUE(bridge->push_event(std::move(call)));
  }
  // The engine's commands but input restarts (each utterance's start), which go to `restarts`.
  std::vector<Command> commands() {
    std::vector<Command> out;
    Command c;
    while (bridge->pop_command(c)) {
      (c.kind == Command::Kind::kRestartInput ? restarts : out).push_back(c);
    }
    return out;
  }
  std::vector<Command> restarts;
};

TEST_F(RealtimeEngineTest, GreetsThenRecordsAServerVadTurn) {
  AgentSettings s;
  s.greeting = "Hello there";
  start(true, s);
  auto cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kRespond);
  EXPECT_NE(cmds[0].output.find("Hello there"), std::string::npos);

  respond("r0", "i0", 0.5, "Hello there");
  frames(30);  // 0.5 s plays, then the turn is over
  EXPECT_EQ(leg.frames_played, 25);
  ASSERT_EQ(turns.size(), 1u);
  EXPECT_EQ(turns[0].index, 0);
  EXPECT_EQ(turns[0].agent_text, "Hello there");

  event(EventType::kSpeechStarted);
  event(EventType::kSpeechStopped);
  event(EventType::kInputTranscript, "", "book a table");
  respond("r1", "i1", 0.2, "Sure.");
  frames(20);
  ASSERT_EQ(turns.size(), 2u);
  const auto& t = turns[1];
  EXPECT_EQ(t.user_text, "book a table");
  EXPECT_EQ(t.agent_text, "Sure.");
  EXPECT_FALSE(t.interrupted);
  EXPECT_GE(t.speech_end_ms, 0);
  EXPECT_GE(t.first_play_ms, t.first_audio_ms);
  EXPECT_TRUE(commands().empty());  // the server answered by itself
}

TEST_F(RealtimeEngineTest, BargeInCancelsAndTruncatesAtThePlayedAudio) {
  start(true);
  event(EventType::kSpeechStopped);
  event(EventType::kResponseCreated, "r1");
  audio("r1", "item_7", 4.0);
  event(EventType::kTranscriptDelta, "r1", "one two three four five six seven eight");
  frames(50);  // 1 s of the answer handed to the leg
  event(EventType::kSpeechStarted);
  frames(1);
  EXPECT_EQ(leg.flushes, 1);
  auto cmds = commands();
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kCancel);
  EXPECT_EQ(cmds[1].kind, Command::Kind::kTruncate);
  EXPECT_EQ(cmds[1].id, "item_7");
  EXPECT_EQ(cmds[1].audio_end_ms, 1000);
  EXPECT_EQ(bridge->answer_queued(), 0u);
  // Late audio of the cancelled response is dropped.
  EXPECT_FALSE(bridge->push_answer("r1", std::vector<int16_t>(160).data(), 160));
  ASSERT_EQ(turns.size(), 1u);
  EXPECT_TRUE(turns[0].interrupted);
  EXPECT_EQ(turns[0].agent_text, "one two");  // a quarter of the words, cut at a word
}

TEST_F(RealtimeEngineTest, LocalVadCommitsAtTheEndOfTurn) {
  AgentSettings s;
  s.speculative = false;
  start(false, s);
  frames(40, tone_frame());  // 0.8 s of speech
  EXPECT_TRUE(commands().empty());
  frames(12);  // past the short pause: without speculation, nothing yet
  EXPECT_TRUE(commands().empty());
  frames(100);  // silence: our turn detector ends the turn
  auto cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kCommit);
  EXPECT_TRUE(speculations.empty());
}

// ---- speculation (local VAD): the response is asked at the short pause ----

TEST_F(RealtimeEngineTest, SpeculationAsksAtTheShortPauseAndPlaysOnceTheTurnEnds) {
  start(false);
  caller(40, 12);  // 0.8 s of speech, 240 ms of silence: past the short pause
  auto cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kCommit);
  event(EventType::kInputTranscript, "", "what time do you open");
  respond("r1", "i1", 0.4, "At nine.");
  frames(5);
  EXPECT_EQ(leg.frames_played, 0);  // held: the caller may go on
  frames(60);                       // the end of the turn confirms it
  EXPECT_TRUE(commands().empty());  // no second commit
  EXPECT_EQ(leg.frames_played, 20);
  ASSERT_EQ(turns.size(), 1u);
  EXPECT_EQ(turns[0].index, 1);
  EXPECT_EQ(turns[0].user_text, "what time do you open");
  EXPECT_EQ(turns[0].agent_text, "At nine.");
  ASSERT_EQ(speculations.size(), 1u);
  EXPECT_TRUE(speculations[0].used);
  EXPECT_TRUE(speculations[0].chat);
}

TEST_F(RealtimeEngineTest, EachUtteranceRestartsTheServersInputBufferFromItsFirstFrame) {
  start(false);
  frames(20);  // silence, or our answer's echo: not part of the turn
  EXPECT_TRUE(commands().empty());
  EXPECT_TRUE(restarts.empty());
  frames(10, tone_frame());  // speech starts (after min_speech 100 ms of it)
  EXPECT_TRUE(commands().empty());
  ASSERT_EQ(restarts.size(), 1u);
  // The utterance so far (about min_speech) and the 200 ms pre-roll.
  EXPECT_GE(restarts[0].audio_end_ms, 280);
  EXPECT_LE(restarts[0].audio_end_ms, 420);
  caller(30, 50);  // the same utterance goes on, pauses (speculation) and ends
  commands();
  EXPECT_EQ(restarts.size(), 1u);
}

TEST_F(RealtimeEngineTest, TheSpeculativeCommitsTranscriptSetsTheWait) {
  start(false);
  caller(40, 12);
  ASSERT_EQ(commands().size(), 1u);
  // A closed question: the turn ends 200 ms after the speech (already past), not at 600 ms.
  event(EventType::kInputTranscript, "", "What time do you open?");
  event(EventType::kResponseCreated, "r1");
  audio("r1", "i1", 0.4);
  event(EventType::kResponseDone, "r1", "", "completed");
  frames(5);
  EXPECT_GE(leg.frames_played, 3);
  ASSERT_EQ(speculations.size(), 1u);
  EXPECT_TRUE(speculations[0].used);
}

TEST_F(RealtimeEngineTest, CallerGoesOnTheSpeculationIsCancelledAndItsOutputDeleted) {
  start(false);
  caller(40, 12);
  ASSERT_EQ(commands().size(), 1u);  // the speculative commit
  event(EventType::kInputTranscript, "", "book a table for");
  event(EventType::kResponseCreated, "r1");
  audio("r1", "i1", 1.0);
  frames(1);
  frames(20, tone_frame());  // "... four people"
  auto cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kCancel);
  EXPECT_EQ(bridge->answer_queued(), 0u);
  EXPECT_FALSE(bridge->push_answer("r1", std::vector<int16_t>(160).data(), 160));
  event(EventType::kResponseDone, "r1", "", "cancelled");
  frames(1, tone_frame());
  cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kDeleteItem);
  EXPECT_EQ(cmds[0].id, "i1");
  // The next short pause speculates again, and this time the turn ends there.
  frames(12);
  cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kCommit);
  event(EventType::kInputTranscript, "", "four people");
  respond("r2", "i2", 0.2, "A table for four.");
  frames(50);
  EXPECT_EQ(leg.frames_played, 10);  // only the answer to the whole sentence was heard
  ASSERT_EQ(turns.size(), 1u);
  EXPECT_EQ(turns[0].index, 1);
  EXPECT_EQ(turns[0].user_text, "book a table for four people");
  EXPECT_EQ(turns[0].agent_text, "A table for four.");
  ASSERT_EQ(speculations.size(), 2u);
  EXPECT_FALSE(speculations[0].used);
  EXPECT_TRUE(speculations[1].used);
}

TEST_F(RealtimeEngineTest, ATurnEndingWhileTheCancelRunsCommitsOnceTheResponseIsOver) {
  start(false);
  caller(40, 12);
  ASSERT_EQ(commands().size(), 1u);
  caller(5, 0);  // the caller goes on before the server created the response
  auto cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kCancel);
  frames(50);  // the turn ends; no new response while the cancelled one may be active
  EXPECT_TRUE(commands().empty());
  event(EventType::kResponseCreated, "r1");
  audio("r1", "i1", 0.5);
  event(EventType::kResponseDone, "r1", "", "cancelled");
  frames(1);
  cmds = commands();
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kDeleteItem);
  EXPECT_EQ(cmds[0].id, "i1");
  EXPECT_EQ(cmds[1].kind, Command::Kind::kCommit);
  EXPECT_EQ(bridge->answer_queued(), 0u);
  EXPECT_EQ(leg.frames_played, 0);
}

TEST_F(RealtimeEngineTest, ASpeculativeResponsesToolCallsWaitForTheEndOfTheTurn) {
  ASSERT_NO_FATAL_FAILURE(speculative_dtmf_call());
  EXPECT_TRUE(commands().empty());
  EXPECT_EQ(leg.calls, 0);  // no key sent for a turn that may not be over
  frames(30);               // the end of the turn
  auto cmds = commands();
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kToolOutput);
  EXPECT_EQ(cmds[0].id, "call_1");
  EXPECT_EQ(cmds[1].kind, Command::Kind::kRespond);
  EXPECT_EQ(leg.calls, 2);
}

TEST_F(RealtimeEngineTest, ADroppedSpeculationsToolCallsNeverRun) {
  ASSERT_NO_FATAL_FAILURE(speculative_dtmf_call());
  caller(5, 0);  // the caller goes on: the response is over, only its call item goes
  auto cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kDeleteItem);
  EXPECT_EQ(cmds[0].id, "fc1");
  EXPECT_EQ(leg.calls, 0);
}

TEST_F(RealtimeEngineTest, ToolCallsAnswerAndAskForTheNextResponse) {
  AgentSettings s;
  s.tools.push_back(llm::send_dtmf_tool());
  start(true, s);
  event(EventType::kSpeechStopped);
  event(EventType::kResponseCreated, "r1");
  realtime::EngineEvent call;
  call.event.type = EventType::kFunctionCall;
  call.event.response_id = "r1";
  call.event.call_id = "call_1";
  call.event.name = "send_dtmf";
  call.event.text = R"({"digits":"12"})";
  ASSERT_TRUE(bridge->push_event(std::move(call)));
  frames(1);
  auto cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kToolOutput);
  EXPECT_EQ(cmds[0].id, "call_1");
  EXPECT_EQ(cmds[0].output, R"({"ok":true})");
  // The follow-up response is asked for once the calling response is over.
  event(EventType::kResponseDone, "r1", "", "completed");
  frames(1);
  cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kRespond);
  EXPECT_TRUE(turns.empty());  // the turn goes on with the next response

  // An unknown tool is answered with an error, not ignored.
  realtime::EngineEvent bad;
  bad.event.type = EventType::kFunctionCall;
  bad.event.call_id = "call_2";
  bad.event.name = "launch_rockets";
  ASSERT_TRUE(bridge->push_event(std::move(bad)));
  frames(1);
  cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_NE(cmds[0].output.find("no such tool"), std::string::npos);
}

// ---- transfer_to_human (agent/human_transfer.h) ----

AgentSettings with_human(std::string to, std::string mode = "bridge") {
  AgentSettings s;
  s.tools.push_back(llm::transfer_to_human_tool());
  s.human_to = std::move(to);
  s.transfer_mode = std::move(mode);
  return s;
}

TEST_F(RealtimeEngineTest, TransferBridgesOnceThePersonAnsweredAndTheHandoffWasHeard) {
  start(true, with_human("9000"));
  event(EventType::kSpeechStopped);
  event(EventType::kResponseCreated, "r1");
  audio("r1", "i1", 0.4);  // the model's own hand-off: "let me get you someone"
  transfer_call("r1", "call_7");
  event(EventType::kResponseDone, "r1", "", "completed");
  frames(1);
  ASSERT_EQ(host.dials.size(), 1u);  // dialled while the hand-off plays
  EXPECT_EQ(host.dials[0].request.to, "9000");
  EXPECT_EQ(phrases.fetches, 0);    // the model's words are the hand-off: none of ours
  EXPECT_TRUE(commands().empty());  // the call's output waits for the outcome
  EXPECT_TRUE(host.has("transfer_to_human", "sales: asked for a person"));

  host.finish_dial("answered", 200, "leg-2");
  EXPECT_TRUE(host.bridges.empty());  // the hand-off is still playing
  frames(25);
  ASSERT_EQ(host.bridges.size(), 1u);
  EXPECT_EQ(host.bridges[0].leg_id, "leg-2");
  EXPECT_FALSE(host.bridges[0].keep_flow);
  EXPECT_TRUE(host.has("transfer", "bridge leg-2"));
  EXPECT_TRUE(bridge->closed());     // the Realtime session goes
  EXPECT_TRUE(leg.hangups.empty());  // the caller stays, with the person
  EXPECT_TRUE(host.hung_up_legs.empty());
  ASSERT_EQ(turns.size(), 1u);
  frames(5);
  EXPECT_TRUE(commands().empty());
}

TEST_F(RealtimeEngineTest, TransferNobodyAnswersTheModelIsToldAndTheCallGoesOn) {
  start(true, with_human("9000"));
  event(EventType::kSpeechStopped);
  event(EventType::kResponseCreated, "r1");
  transfer_call("r1", "call_7");  // no audio: the persona's hand-off is said for it
  event(EventType::kResponseDone, "r1", "", "completed");
  frames(1);
  ASSERT_EQ(host.dials.size(), 1u);
  ASSERT_EQ(phrases.fetches, 1);
  phrases.complete_all();
  host.run_posted();
  ASSERT_EQ(leg.clips.size(), 1u);
  EXPECT_EQ(leg.clips[0]->label, default_phrase(AgentPhrase::kHandoff, "en"));
  EXPECT_TRUE(commands().empty());

  host.finish_dial("busy", 486);
  auto cmds = commands();
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kToolOutput);
  EXPECT_EQ(cmds[0].id, "call_7");
  EXPECT_NE(cmds[0].output.find(R"("transferred":false)"), std::string::npos) << cmds[0].output;
  EXPECT_NE(cmds[0].output.find("busy"), std::string::npos) << cmds[0].output;
  EXPECT_EQ(cmds[1].kind, Command::Kind::kRespond);  // so the model tells the caller
  EXPECT_TRUE(host.has("transfer_failed", "busy"));
  EXPECT_TRUE(host.bridges.empty());
  EXPECT_FALSE(bridge->closed());
  EXPECT_TRUE(leg.hangups.empty());

  // The conversation goes on: the model's answer ends the turn.
  respond("r2", "i2", 0.2, "Nobody is free right now, can I help?");
  while (leg.queued_samples > 0) leg.advance();  // our hand-off clip plays out
  frames(20);
  ASSERT_EQ(turns.size(), 1u);
  EXPECT_NE(turns[0].agent_text.find("Nobody is free"), std::string::npos) << turns[0].agent_text;
  EXPECT_TRUE(leg.hangups.empty());
}

TEST_F(RealtimeEngineTest, TransferByReferOnceTheHandoffWasHeard) {
  start(true, with_human("sip:desk@pbx", "refer"));
  event(EventType::kSpeechStopped);
  event(EventType::kResponseCreated, "r1");
  audio("r1", "i1", 0.2);
  transfer_call("r1", "call_7");
  event(EventType::kResponseDone, "r1", "", "completed");
  frames(1);
  EXPECT_TRUE(host.dials.empty());
  EXPECT_TRUE(host.transfers.empty());  // not before the hand-off is heard
  frames(15);
  ASSERT_EQ(host.transfers.size(), 1u);
  EXPECT_EQ(host.transfers[0].to, "sip:desk@pbx");
  EXPECT_FALSE(bridge->closed());
  host.finish_transfer(200);
  EXPECT_TRUE(bridge->closed());
  EXPECT_TRUE(leg.hangups.empty());  // the session hangs up a transferred leg
}

TEST_F(RealtimeEngineTest, TransferWithoutAHumanAnswersTheModelAtOnce) {
  start(true, with_human(""));
  event(EventType::kSpeechStopped);
  event(EventType::kResponseCreated, "r1");
  transfer_call("r1", "call_7");
  frames(1);
  auto cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kToolOutput);
  EXPECT_NE(cmds[0].output.find("no human configured"), std::string::npos);
  EXPECT_EQ(phrases.fetches, 0);  // no hand-off for a transfer that cannot happen
  event(EventType::kResponseDone, "r1", "", "completed");
  frames(1);
  cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].kind, Command::Kind::kRespond);
}

TEST_F(RealtimeEngineTest, TransferCallerHangsUpWhileRingingThePersonIsHungUp) {
  start(true, with_human("9000"));
  event(EventType::kSpeechStopped);
  event(EventType::kResponseCreated, "r1");
  audio("r1", "i1", 0.2);
  transfer_call("r1", "call_7");
  event(EventType::kResponseDone, "r1", "", "completed");
  frames(15);
  ASSERT_EQ(host.dials.size(), 1u);
  engine->on_hangup("caller hung up");
  host.finish_dial("answered", 200, "leg-2");
  EXPECT_EQ(host.hung_up_legs, std::vector<std::string>{"leg-2"});
  EXPECT_TRUE(host.bridges.empty());
}

TEST_F(RealtimeEngineTest, TheSessionEndingEndsTheCall) {
  start(true);
  bridge->set_ended("closed by the server");
  frames(1);
  ASSERT_EQ(leg.hangups.size(), 1u);
  EXPECT_EQ(leg.hangups[0], "realtime: closed by the server");
  EXPECT_TRUE(bridge->closed());
}

TEST_F(RealtimeEngineTest, NotConfiguredHangsUp) {
  RealtimeEngines e;
  e.open = [](int) { return std::shared_ptr<realtime::Bridge>(); };
  RealtimeEngine engine(host, AgentSettings{}, true, std::move(e));
  engine.start(now);
  ASSERT_EQ(leg.hangups.size(), 1u);
}

}  // namespace
}  // namespace atende::agent
