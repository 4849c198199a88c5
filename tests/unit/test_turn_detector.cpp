// End-of-turn detection on recorded frame sequences: espeak-ng speech, pauses, white noise
// and real recordings, through the real WebRTC VAD, with a fake clock.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <optional>

#include "alloc_counter.h"
#include "test_turn_audio.h"
#include "turn/turn_detector.h"

namespace atende::turn {
namespace {

using namespace testing;

struct Seen {
  size_t frame;  // index of the frame that produced the event
  TurnEvent event;
};

// Feeds a timeline through VAD + detector. `on_frame_hook(i, detector)` runs before frame i
// (to inject recognised text at a given moment).
template <typename Hook>
std::vector<Seen> drive(TurnDetector& det, const Timeline& tl, Hook hook) {
  audio::WebRtcVad vad({.sample_rate = kRate});
  std::vector<Seen> seen;
  for (size_t i = 0; i < tl.frames(); ++i) {
    hook(i, det);
    const AudioFrame f = frame_at(tl.pcm(), i);
    TurnEvent ev = det.on_frame(f, vad.process(f), at_frame(i));
    // The owner's timer: armed for end_deadline() after the frame, fired at that frame time.
    if (ev.kind == TurnEventKind::kNone) {
      if (auto deadline = det.end_deadline(); deadline && *deadline <= at_frame(i)) {
        ev = det.end_turn(at_frame(i));
      }
    }
    if (ev.kind != TurnEventKind::kNone) seen.push_back({i, ev});
  }
  return seen;
}
std::vector<Seen> drive(TurnDetector& det, const Timeline& tl) {
  return drive(det, tl, [](size_t, TurnDetector&) {});
}

size_t count(const std::vector<Seen>& s, TurnEventKind kind) {
  return size_t(
      std::count_if(s.begin(), s.end(), [&](const Seen& x) { return x.event.kind == kind; }));
}
std::optional<Seen> first(const std::vector<Seen>& s, TurnEventKind kind) {
  for (const auto& x : s) {
    if (x.event.kind == kind) return x;
  }
  return std::nullopt;
}

TEST(TurnDetector, EndOfTurnAfterSilence) {
  Timeline tl;
  tl.silence(300);
  const auto words = say("I would like to book a table for tonight");
  const size_t at = tl.add(words);
  tl.silence(1500);
  TurnDetector det;
  const auto seen = drive(det, tl);
  ASSERT_EQ(seen.size(), 2u);
  ASSERT_EQ(seen[0].event.kind, TurnEventKind::kSpeechStarted);
  ASSERT_EQ(seen[1].event.kind, TurnEventKind::kEndOfTurn);
  // Onset within two frames of where the words begin; start reported after the debounce.
  const size_t onset = frame_of_sample(first_loud(tl.pcm(), at));
  EXPECT_NEAR(double(frame_of(seen[0].event.speech_start)), double(onset), 2.0);
  EXPECT_GE(seen[0].frame, frame_of(seen[0].event.speech_start) + 4);  // >= 100 ms of speech
  // The end: the words end, the VAD hangs over a little, then exactly 600 ms of silence.
  const size_t words_end = frame_of_sample(at + words.size());
  const size_t speech_end = frame_of(seen[1].event.speech_end);
  EXPECT_GE(speech_end + 3, words_end);
  EXPECT_LE(speech_end, words_end + 8);
  EXPECT_EQ(seen[1].frame, speech_end + 30);
  EXPECT_EQ(seen[1].event.silence_wait, Millis{600});
  EXPECT_EQ(seen[1].event.reason, TurnEndReason::kSilence);
  EXPECT_EQ(det.state(), TurnDetector::State::kIdle);
}

TEST(TurnDetector, PauseShorterThanThresholdKeepsTheTurn) {
  Timeline tl;
  tl.silence(300);
  tl.add(say("I would like"));
  tl.silence(400);
  const size_t second = tl.add(say("a table for two"));
  tl.silence(1500);
  TurnDetector det;
  const auto seen = drive(det, tl);
  ASSERT_EQ(count(seen, TurnEventKind::kSpeechStarted), 1u);
  ASSERT_EQ(count(seen, TurnEventKind::kEndOfTurn), 1u);
  EXPECT_GT(first(seen, TurnEventKind::kEndOfTurn)->event.speech_end,
            at_frame(frame_of_sample(second)));
}

TEST(TurnDetector, PauseLongerThanThresholdEndsTheTurn) {
  Timeline tl;
  tl.silence(300);
  tl.add(say("I would like"));
  tl.silence(900);
  tl.add(say("a table for two"));
  tl.silence(1500);
  TurnDetector det;
  const auto seen = drive(det, tl);
  EXPECT_EQ(count(seen, TurnEventKind::kSpeechStarted), 2u);
  EXPECT_EQ(count(seen, TurnEventKind::kEndOfTurn), 2u);
}

// The same 900 ms pause does not end the turn when the words so far trail off; the next
// partial ("... for two people") brings the wait back to the default.
TEST(TurnDetector, UnfinishedTextWaitsLonger) {
  Timeline tl;
  tl.silence(300);
  const auto part1 = say("I want to book a table for");
  const size_t at1 = tl.add(part1);
  tl.silence(900);
  const auto part2 = say("two people");
  const size_t at2 = tl.add(part2);
  tl.silence(2000);
  const size_t text1 = frame_of_sample(at1 + part1.size()) + 5;  // the recogniser's partials
  const size_t text2 = frame_of_sample(at2 + part2.size()) + 5;
  TurnDetector det;
  const auto seen = drive(det, tl, [&](size_t i, TurnDetector& d) {
    if (i == text1) d.set_partial_text("I want to book a table for");
    if (i == text2) d.set_partial_text("I want to book a table for two people");
  });
  ASSERT_EQ(count(seen, TurnEventKind::kSpeechStarted), 1u);
  ASSERT_EQ(count(seen, TurnEventKind::kEndOfTurn), 1u);
  const auto end = first(seen, TurnEventKind::kEndOfTurn);
  EXPECT_EQ(end->event.silence_wait, Millis{600});
  EXPECT_GE(end->event.speech_end, at_frame(frame_of_sample(at2 + part2.size()) - 3));

  // Without the hint the pause splits it in two.
  TurnDetector plain;
  EXPECT_EQ(count(drive(plain, tl), TurnEventKind::kEndOfTurn), 2u);
}

TEST(TurnDetector, UnfinishedWaitAppliesAndIsBounded) {
  Timeline tl;
  tl.silence(300);
  const auto words = say("I want to book a table for");
  const size_t at = tl.add(words);
  tl.silence(2500);
  const size_t text_frame = frame_of_sample(at + words.size()) + 2;
  TurnDetector det;
  const auto seen = drive(det, tl, [&](size_t i, TurnDetector& d) {
    if (i == text_frame) d.set_partial_text("I want to book a table for");
  });
  const auto end = first(seen, TurnEventKind::kEndOfTurn);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->event.silence_wait, Millis{1200});
  EXPECT_EQ(end->frame, frame_of(end->event.speech_end) + 60);
  EXPECT_EQ(det.ending(), TurnEnding::kUnfinished);
}

TEST(TurnDetector, CompleteShortAnswerEndsSooner) {
  Timeline tl;
  tl.silence(300);
  const auto yes = say("yes");
  const size_t at = tl.add(yes);
  tl.silence(1500);
  const size_t text_frame = frame_of_sample(at + yes.size());
  std::vector<Seen> with_text, without;
  {
    TurnDetector det;
    with_text = drive(det, tl, [&](size_t i, TurnDetector& d) {
      if (i == text_frame) d.set_partial_text("Yes.");
    });
  }
  {
    TurnDetector det;
    without = drive(det, tl);
  }
  const auto a = first(with_text, TurnEventKind::kEndOfTurn);
  const auto b = first(without, TurnEventKind::kEndOfTurn);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->event.silence_wait, Millis{200});
  EXPECT_EQ(a->frame, frame_of(a->event.speech_end) + 10);  // 200 ms: 10 frames
  EXPECT_EQ(b->frame, a->frame + 20);  // 600 ms instead of 200: 400 ms sooner with the hint
}

// A late hint still shortens: the silence already waited counts.
TEST(TurnDetector, LateCompleteHintEndsAtOnce) {
  Timeline tl;
  tl.silence(300);
  const auto yes = say("yes");
  const size_t at = tl.add(yes);
  tl.silence(1500);
  const size_t text_frame = frame_of_sample(at + yes.size()) + 25;  // 500 ms after the words
  TurnDetector det;
  const auto seen = drive(det, tl, [&](size_t i, TurnDetector& d) {
    if (i == text_frame) d.set_partial_text("yes");
  });
  const auto end = first(seen, TurnEventKind::kEndOfTurn);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->frame, text_frame);
}

TEST(TurnDetector, NoiseBurstsDoNotStartSpeech) {
  Timeline tl;
  tl.silence(500);
  for (double level : {-40.0, -30.0, -20.0, -10.0}) {
    tl.add(white_noise(200, level, unsigned(-level)));
    tl.silence(700);
  }
  tl.add(white_noise(1500, -20.0, 99));  // a long loud hiss
  tl.silence(500);
  std::vector<int16_t> click(kFrame, 0);
  click[10] = 30000;
  click[11] = -30000;
  for (int i = 0; i < 5; ++i) {
    tl.add(click);
    tl.silence(300);
  }
  TurnDetector det;
  const auto seen = drive(det, tl);
  EXPECT_TRUE(seen.empty()) << seen.size() << " events, first at frame " << seen[0].frame;
}

TEST(TurnDetector, SpeechOverSteadyHissIsStillFound) {
  Timeline tl;
  const auto words = say("my apartment is one hundred and two");
  tl.silence(500);
  const size_t at = tl.add(words);
  tl.silence(1500);
  tl.mix(0, white_noise(int(tl.pcm().size() * 1000 / kRate), -45.0, 5));
  TurnDetector det;
  const auto seen = drive(det, tl);
  ASSERT_EQ(count(seen, TurnEventKind::kSpeechStarted), 1u);
  ASSERT_EQ(count(seen, TurnEventKind::kEndOfTurn), 1u);
  EXPECT_NEAR(double(frame_of(seen[0].event.speech_start)),
              double(frame_of_sample(first_loud(words) + at)), 3.0);
}

TEST(TurnDetector, QuietFramesNeverCount) {
  Timeline tl;
  tl.silence(300);
  tl.add(scaled(say("hello there"), -40.0));  // about -60 dBFS: below min_level_dbfs
  tl.silence(1000);
  TurnDetector det;
  EXPECT_TRUE(drive(det, tl).empty());
}

TEST(TurnDetector, PreRollKeepsTheOnset) {
  Timeline tl;
  tl.silence(600);
  const auto words = say("seven");
  const size_t at = tl.add(words);
  tl.silence(1200);
  TurnDetector det;
  const auto seen = drive(det, tl);
  ASSERT_EQ(count(seen, TurnEventKind::kEndOfTurn), 1u);
  const auto utt = det.utterance();
  const size_t start_frame = frame_of(seen[0].event.speech_start);
  const size_t begin = (start_frame - 10) * kFrame;  // 200 ms of pre-roll
  ASSERT_GE(start_frame, 10u);
  // The utterance is exactly the timeline's audio from 200 ms before the first speech
  // frame, so it holds the whole word from its first audible sample.
  ASSERT_LE(begin + utt.size(), tl.pcm().size());
  EXPECT_TRUE(std::equal(utt.begin(), utt.end(), tl.pcm().begin() + long(begin)));
  EXPECT_LE(begin, first_loud(tl.pcm(), at));
  EXPECT_GE(begin + utt.size(), at + words.size());
  // Trailing silence is cut to the 200 ms post-roll after the last speech frame.
  const size_t speech_end_sample = (frame_of(seen[1].event.speech_end) + 1) * kFrame;
  EXPECT_EQ(begin + utt.size(), speech_end_sample + 1600);
  EXPECT_EQ(det.utterance_duration(), Millis{long(utt.size()) * 1000 / kRate});
}

TEST(TurnDetector, PreRollAtTheVeryStartIsWhatThereIs) {
  Timeline tl;
  const auto words = say("hello");
  tl.add(words);
  tl.silence(1000);
  TurnDetector det;
  const auto seen = drive(det, tl);
  ASSERT_EQ(count(seen, TurnEventKind::kEndOfTurn), 1u);
  const auto utt = det.utterance();
  EXPECT_TRUE(std::equal(utt.begin(), utt.end(), tl.pcm().begin()));
}

TEST(TurnDetector, RealRecordingIsOneTurn) {
  Timeline tl;
  tl.silence(300);
  const auto rec = recording("goforward.raw");  // "go forward ten meters"
  ASSERT_FALSE(rec.empty());
  tl.add(rec);
  tl.silence(1000);
  TurnDetector det;
  const auto seen = drive(det, tl);
  EXPECT_EQ(count(seen, TurnEventKind::kSpeechStarted), 1u);
  EXPECT_EQ(count(seen, TurnEventKind::kEndOfTurn), 1u);
  EXPECT_GT(det.utterance_duration(), Millis{1500});
}

TEST(TurnDetector, MaxUtteranceEndsTheTurn) {
  Timeline tl;
  tl.silence(200);
  tl.add(say("this is a very long answer that goes on and on without a single pause"));
  tl.silence(1000);
  TurnConfig cfg;
  cfg.max_utterance = Millis{1500};
  TurnDetector det(cfg);
  const auto seen = drive(det, tl);
  const auto end = first(seen, TurnEventKind::kEndOfTurn);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->event.reason, TurnEndReason::kMaxLength);
  EXPECT_EQ(end->frame, frame_of(end->event.speech_start) + 75);
  EXPECT_LE(det.utterance().size(), size_t(1500 + 200 + 20) * kRate / 1000);
}

TEST(TurnDetector, TextIgnoredWhenIdleAndResetForgets) {
  TurnDetector det;
  det.set_partial_text("and");
  det.set_end_silence(Millis{5000});
  EXPECT_EQ(det.end_silence(), Millis{600});
  Timeline tl;
  tl.silence(200);
  tl.add(say("hello"));
  drive(det, tl);
  EXPECT_EQ(det.state(), TurnDetector::State::kSpeaking);
  det.set_end_silence(Millis{900});
  EXPECT_EQ(det.end_silence(), Millis{900});
  det.reset();
  EXPECT_EQ(det.state(), TurnDetector::State::kIdle);
  EXPECT_TRUE(det.utterance().empty());
  EXPECT_EQ(det.end_silence(), Millis{600});
}

TEST(TurnDetector, FramesAtAnotherRateAreIgnored) {
  TurnDetector det;
  AudioFrame wide = AudioFrame::silence(16000);
  audio::VadDecision loud{true, 1.0f, -10.0f, 0.05f};
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(det.on_frame(wide, loud, at_frame(size_t(i))).kind, TurnEventKind::kNone);
  }
  EXPECT_EQ(det.state(), TurnDetector::State::kIdle);
}

TEST(TurnDetector, RefusesBadConfig) {
  EXPECT_THROW(TurnDetector({.sample_rate = 4000}), std::invalid_argument);
  TurnConfig bad;
  bad.end_silence = Millis{-1};
  EXPECT_THROW(TurnDetector{bad}, std::invalid_argument);
}

TEST(TurnDetector, NoAllocationPerFrame) {
  Timeline tl;
  tl.silence(300);
  tl.add(say("I would like to book a table for tonight"));
  tl.silence(1000);
  tl.add(say("for two people"));
  tl.silence(1000);
  std::vector<AudioFrame> frames;
  std::vector<audio::VadDecision> decisions;
  audio::WebRtcVad vad;
  for (size_t i = 0; i < tl.frames(); ++i) {
    frames.push_back(frame_at(tl.pcm(), i));
    decisions.push_back(vad.process(frames.back()));
  }
  TurnDetector det;
  int events = 0;
  alloc_counter::allocations = 0;
  alloc_counter::counting = true;
  for (size_t i = 0; i < frames.size(); ++i) {
    events += det.on_frame(frames[i], decisions[i], at_frame(i)).kind != TurnEventKind::kNone;
    if (auto deadline = det.end_deadline(); deadline && *deadline <= at_frame(i)) {
      events += det.end_turn(at_frame(i)).kind != TurnEventKind::kNone;
    }
  }
  alloc_counter::counting = false;
  EXPECT_EQ(alloc_counter::allocations.load(), 0);
  EXPECT_EQ(events, 4);  // two turns: it really ran
}

}  // namespace
}  // namespace atende::turn
