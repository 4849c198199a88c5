// turn::Endpointer: synthetic frames (a loud 200 Hz tone is speech, zeros are silence, by a
// level VAD), a fake clock and a TimerQueue the test runs after each frame, as the media
// worker does. Checks the events and their timing on the frame grid: speech_started after
// the debounce, short_pause 200 ms into a silence, speech_resumed, end_of_turn at the wait
// (and at once when words shorten it), barge-in during playback, turns over playback dropped,
// and no allocation per frame.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "alloc_counter.h"
#include "test_level_vad.h"
#include "turn/endpointer.h"

namespace atende::turn {
namespace {

using atende::testing::LevelVad;
using atende::testing::tone_frame;

struct Log final : EndpointerEvents {
  std::vector<std::string> events;  // "name@ms"
  bool record = true;               // false: only count (the allocation test)
  int count = 0;
  MonoTime origin{};
  std::function<void()> on_barge;
  std::string at(MonoTime now) const {
    return "@" + std::to_string(std::chrono::duration_cast<Millis>(now - origin).count());
  }
  void note(const char* name, MonoTime now) {
    ++count;
    if (record) events.push_back(name + at(now));
  }
  void on_speech_started(const TurnEvent&, MonoTime now) override { note("started", now); }
  void on_short_pause(MonoTime, MonoTime now) override { note("pause", now); }
  void on_speech_resumed(MonoTime now) override { note("resumed", now); }
  void on_end_of_turn(const TurnEvent& ev, MonoTime now) override {
    note("end", now);
    last_end = ev;
  }
  void on_barge_in(MonoTime now) override {
    note("barge", now);
    if (on_barge) on_barge();
  }
  TurnEvent last_end;
};

struct Ear {
  TimerQueue timers;
  Log log;
  Endpointer ep;
  MonoTime now{};
  explicit Ear(EndpointerConfig c = {}, bool worker_timers = true)
      : ep(c, std::make_unique<LevelVad>(), worker_timers ? &timers : nullptr, log) {}
  // One 20 ms frame, then what the worker does next: the timers due by then.
  void frame(const AudioFrame& f) {
    now += Millis(20);
    ep.on_frame(f, now);
    timers.run_due(now);
  }
  void speak(int ms) {
    for (int t = 0; t < ms; t += 20) frame(tone_frame());
  }
  void quiet(int ms) {
    for (int t = 0; t < ms; t += 20) frame(AudioFrame::silence());
  }
};

using Events = std::vector<std::string>;

TEST(Endpointer, StartedThenShortPauseThenEndOfTurnOnTheirTimers) {
  Ear ear;
  ear.speak(500);  // frames 20..500
  ear.quiet(1000);
  // Debounce: 100 ms of speech (frames 20..100). Last speech at 500: pause at 700, end at
  // 500 + 600 = 1100.
  EXPECT_EQ(ear.log.events, (Events{"started@100", "pause@700", "end@1100"}));
  EXPECT_EQ(ear.log.last_end.reason, TurnEndReason::kSilence);
  EXPECT_EQ(ear.log.last_end.speech_end, MonoTime{} + Millis(500));
  EXPECT_FALSE(ear.timers.next_deadline());  // nothing left armed
}

TEST(Endpointer, SameDecisionsWithoutWorkerTimers) {
  Ear ear({}, /*worker_timers=*/false);
  ear.speak(500);
  ear.quiet(1000);
  EXPECT_EQ(ear.log.events, (Events{"started@100", "pause@700", "end@1100"}));
}

TEST(Endpointer, TheCallerGoingOnAfterAPauseIsOneTurn) {
  Ear ear;
  ear.speak(400);
  ear.quiet(400);  // "I'd like to book a table for..."
  ear.speak(400);  // "...four people"
  ear.quiet(1000);
  EXPECT_EQ(ear.log.events,
            (Events{"started@100", "pause@600", "resumed@820", "pause@1400", "end@1800"}));
}

TEST(Endpointer, WordsThatCompleteTheTurnEndItSooner) {
  Ear ear;
  ear.speak(300);
  ear.quiet(100);
  ear.ep.on_partial_text("yes", ear.now);  // a whole short answer: 200 ms
  ear.quiet(600);
  // No short pause either: the turn ends when one would be reported.
  EXPECT_EQ(ear.log.events, (Events{"started@100", "end@500"}));
}

TEST(Endpointer, WordsHeardInAPauseAreForgottenWhenTheCallerGoesOn) {
  Ear ear;
  ear.speak(400);
  ear.quiet(220);                           // pause@600
  ear.ep.on_partial_text("Yes.", ear.now);  // would end the turn at 400 + 350
  ear.speak(400);                           // "yes, and one more thing": resumed
  ear.quiet(1000);
  // The second stretch ends at 1020: the default 600 ms again, not the 350 of "Yes.".
  EXPECT_EQ(ear.log.events,
            (Events{"started@100", "pause@600", "resumed@640", "pause@1220", "end@1620"}));
}

TEST(Endpointer, AWaitSetPerUtteranceMovesTheTimer) {
  Ear ear;
  ear.speak(300);
  ear.ep.set_end_silence(Millis(900));
  ear.quiet(1200);
  EXPECT_EQ(ear.log.events, (Events{"started@100", "pause@500", "end@1200"}));
  // The next utterance starts from the default again.
  ear.speak(300);
  ear.quiet(800);
  EXPECT_EQ(ear.log.events.back(), "end@2400");  // last speech 1800 + 600
}

TEST(Endpointer, NoShortPauseWhenTheWaitIsShorter) {
  EndpointerConfig c;
  c.turn.end_silence = Millis(160);
  Ear ear(c);
  ear.speak(300);
  ear.quiet(400);
  EXPECT_EQ(ear.log.events, (Events{"started@100", "end@460"}));
}

TEST(Endpointer, TheLongestTurnEndsOnItsTimerWhileTheCallerSpeaks) {
  EndpointerConfig c;
  c.turn.max_utterance = Millis(1000);
  Ear ear(c);
  ear.speak(1500);
  ASSERT_EQ(ear.log.events.size(), 3u);
  EXPECT_EQ(ear.log.events[1], "end@1020");  // start at frame 20 + 1000
  EXPECT_EQ(ear.log.last_end.reason, TurnEndReason::kMaxLength);
  EXPECT_EQ(ear.log.events[2], "started@1120");  // the caller goes on: a new turn
}

TEST(Endpointer, BargesInOnceDuringPlaybackAndTheUtteranceStillEnds) {
  EndpointerConfig c;
  c.barge_in.interrupt_without_text = c.barge_in.min_speech;  // no recogniser: length rule
  Ear ear(c);
  ear.ep.playback_started(ear.now);
  ear.log.on_barge = [&] { ear.ep.playback_stopped(); };  // the owner flushes its playback
  ear.speak(500);
  ear.quiet(700);
  EXPECT_EQ(ear.log.events, (Events{"started@100", "barge@300", "pause@700", "end@1100"}));
}

TEST(Endpointer, ATurnOverPlaybackThatDidNotBargeInIsDropped) {
  Ear ear;  // default barge-in: 700 ms without words
  ear.ep.playback_started(ear.now);
  ear.speak(400);  // "uh-huh": long enough to be a voice, too short to interrupt
  ear.quiet(800);
  EXPECT_EQ(ear.log.events, (Events{"started@100", "pause@600"}));
  EXPECT_EQ(ear.ep.ignored_over_playback(), 1u);
}

TEST(Endpointer, WordsDuringPlaybackVetoOrTriggerBargeIn) {
  Ear ear;
  ear.ep.playback_started(ear.now);
  ear.speak(400);
  ear.ep.on_partial_text("okay okay sure", ear.now);  // backchannel: keep playing
  ear.speak(200);
  EXPECT_EQ(ear.log.events, (Events{"started@100"}));
  ear.ep.on_partial_text("wait stop", ear.now);
  EXPECT_EQ(ear.log.events.back(), "barge@600");
}

TEST(Endpointer, ResetForgetsTheUtteranceAndItsTimers) {
  Ear ear;
  ear.speak(300);
  ear.quiet(100);
  ear.ep.reset();
  EXPECT_FALSE(ear.timers.next_deadline());
  ear.quiet(1000);
  EXPECT_EQ(ear.log.events, (Events{"started@100"}));
}

TEST(Endpointer, NoAllocationPerFrame) {
  Ear ear;
  ear.speak(100);  // first use of everything
  ear.quiet(800);
  const AudioFrame loud = tone_frame(), quiet = AudioFrame::silence();
  ear.log.record = false;
  ear.log.count = 0;
  alloc_counter::allocations = 0;
  alloc_counter::counting = true;
  for (int turn = 0; turn < 5; ++turn) {
    for (int i = 0; i < 20; ++i) ear.frame(loud);
    for (int i = 0; i < 40; ++i) ear.frame(quiet);
  }
  alloc_counter::counting = false;
  EXPECT_EQ(alloc_counter::allocations.load(), 0);
  EXPECT_EQ(ear.log.count, 15);  // started, pause, end per turn: it really ran
}

}  // namespace
}  // namespace atende::turn
