#include <gtest/gtest.h>

#include "speech/sphinx_rejection.h"

using atende::speech::judge_answer;
using atende::speech::judge_segments;
using atende::speech::RejectionOptions;
using atende::speech::SphinxSegment;

// Segmentations recorded from pocketsphinx 0.8 on espeak-ng speech at 8 kHz (frames of
// 10 ms), see docs/stt.md.

TEST(SphinxRejection, AcceptsPhrasesSaidAlone) {
  RejectionOptions o;
  EXPECT_FALSE(judge_segments({{"<sil>", 26}, {"sales", 33}, {"<sil>", 24}}, o).reject);
  // A pause inside "two zero two" is still short.
  EXPECT_FALSE(
      judge_segments(
          {{"<sil>", 13}, {"two", 17}, {"<sil>", 45}, {"oh", 3}, {"two", 17}, {"<sil>", 22}}, o)
          .reject);
}

TEST(SphinxRejection, TrailingSilenceFromTheTurnDetectorDoesNotCount) {
  auto v = judge_segments({{"<sil>", 12}, {"no", 17}, {"<sil>", 90}}, {});
  EXPECT_FALSE(v.reject) << v.reason;
  EXPECT_NEAR(v.coverage, 17.0 / 29, 1e-9);
}

TEST(SphinxRejection, RejectsSpeechForcedOntoAPhrase) {
  // "what is the weather like today" heard against {yes, no}.
  auto weather = judge_segments({{"<sil>", 146}, {"yes", 11}, {"<sil>", 37}}, {});
  EXPECT_TRUE(weather.reject);
  EXPECT_NEAR(weather.max_gap_seconds, 1.46, 1e-9);
  EXPECT_NE(weather.reason.find("non-speech"), std::string::npos);
  // "wait a moment please" -> "no": short lead, words cover little.
  auto wait = judge_segments({{"<sil>", 51}, {"no", 14}, {"<sil>", 99}}, {});
  EXPECT_TRUE(wait.reject);
  EXPECT_NE(wait.reason.find("cover"), std::string::npos);
}

TEST(SphinxRejection, NothingButFillersIsRejected) {
  EXPECT_TRUE(judge_segments({}, {}).reject);
  EXPECT_TRUE(judge_segments({{"<sil>", 40}, {"[NOISE]", 20}, {"++um++", 3}}, {}).reject);
}

TEST(SphinxRejection, ThresholdsAndSwitchAreHonoured) {
  const std::vector<SphinxSegment> s{{"<sil>", 70}, {"yes", 40}};
  RejectionOptions o;
  EXPECT_TRUE(judge_segments(s, o).reject);
  o.max_gap_seconds = 0.8;
  EXPECT_FALSE(judge_segments(s, o).reject);
  o.min_coverage = 0.5;
  EXPECT_TRUE(judge_segments(s, o).reject);
  o.enabled = false;
  auto v = judge_segments(s, o);
  EXPECT_FALSE(v.reject);
  EXPECT_NEAR(v.coverage, 40.0 / 110, 1e-9);
}

TEST(SphinxRejection, FillerSpellings) {
  EXPECT_TRUE(atende::speech::is_filler_word("<sil>"));
  EXPECT_TRUE(atende::speech::is_filler_word("[NOISE]"));
  EXPECT_TRUE(atende::speech::is_filler_word("++breath++"));
  EXPECT_FALSE(atende::speech::is_filler_word("hundred(2)"));
}

// Best paths and phone-loop totals recorded with tools/sttcheck's setup (espeak-ng en-us,
// 8 kHz, noise floor, one decoder with -compallsen and -allphone_ci; docs/stt.md
// "Phone-loop confidence").
TEST(SphinxRejection, PhoneLoopGapPerWordFrame) {
  RejectionOptions o;
  o.max_phone_loop_gap = 55;
  // "support" against the ivr menu: the loop is 777 better over 53 word frames.
  auto support = atende::speech::judge_phone_loop(
      {{"<sil>", 14, -537}, {"support", 53, -3163}, {"<sil>", 46, -485}}, -3408, o);
  EXPECT_FALSE(support.reject) << support.reason;
  EXPECT_NEAR(support.phone_loop_gap, 777.0 / 53, 1e-9);
  // Two words count together.
  auto john = atende::speech::judge_phone_loop(
      {{"<sil>", 18, -310}, {"john", 29, -2303}, {"smith", 42, -2992}, {"<sil>", 38, -594}}, -4070,
      o);
  EXPECT_FALSE(john.reject) << john.reason;
  EXPECT_NEAR(john.phone_loop_gap, 2129.0 / 71, 1e-9);
  // "good morning" forced onto "support": segmentation let it through, the loop does not.
  const std::vector<SphinxSegment> morning{
      {"<sil>", 12, -435}, {"support", 63, -6268}, {"<sil>", 51, -1772}};
  EXPECT_FALSE(judge_segments(morning, {.max_gap_seconds = 0.3, .min_coverage = 0.5}).reject);
  auto v = atende::speech::judge_phone_loop(morning, -4136, o);
  EXPECT_TRUE(v.reject);
  EXPECT_NEAR(v.phone_loop_gap, 4339.0 / 63, 1e-9);
  EXPECT_NE(v.reason.find("phone loop"), std::string::npos);
}

TEST(SphinxRejection, PhoneLoopThresholdAndSwitches) {
  const std::vector<SphinxSegment> path{{"<sil>", 10, -100}, {"yes", 40, -4000}};
  RejectionOptions o;  // max_phone_loop_gap 0: off, the gap is still measured
  auto off = atende::speech::judge_phone_loop(path, -2100, o);
  EXPECT_FALSE(off.reject);
  EXPECT_NEAR(off.phone_loop_gap, 50, 1e-9);
  o.max_phone_loop_gap = 49;
  EXPECT_TRUE(atende::speech::judge_phone_loop(path, -2100, o).reject);
  o.max_phone_loop_gap = 50;
  EXPECT_FALSE(atende::speech::judge_phone_loop(path, -2100, o).reject);
  o.max_phone_loop_gap = 49;
  o.enabled = false;
  EXPECT_FALSE(atende::speech::judge_phone_loop(path, -2100, o).reject);
  // No word at all: nothing to judge.
  EXPECT_TRUE(atende::speech::judge_phone_loop({{"<sil>", 50, -300}}, -300, o).reject);
}

// judge_answer: the answer's own frames against the loop's over the same frames.
TEST(SphinxRejection, AnswerGapLooksOnlyAtTheAnswer) {
  RejectionOptions o;
  o.max_answer_gap = 35;
  // "i'm here to see" (4 words, frames 10-59) then "john smith" (frames 60-99).
  const std::vector<SphinxSegment> path{{"<sil>", 10, -100, 0},   {"i'm", 10, -1000, 10},
                                        {"here", 10, -1000, 20},  {"to", 10, -1000, 30},
                                        {"see", 20, -2000, 40},   {"john", 20, -2000, 60},
                                        {"smith", 20, -2000, 80}, {"<sil>", 20, -200, 100}};
  // The loop: two segments over the answer, one straddling its start (half inside).
  std::vector<SphinxSegment> loop{{"SIL", 10, -100, 0},
                                  {"AY", 50, -4000, 10},
                                  {"JH", 20, -2000, 50},
                                  {"AA", 30, -2400, 70},
                                  {"SIL", 20, -200, 100}};
  auto v = judge_answer(path, loop, 4, 0, o);
  // loop over 60-99: half of JH (-1000) + AA (-2400) = -3400; answer -4000; 40 frames.
  EXPECT_NEAR(v.phone_loop_gap, 600.0 / 40, 1e-9);
  EXPECT_FALSE(v.reject);
  loop[3].ascr = -100;  // the loop explains the "answer" far better: forced speech
  v = judge_answer(path, loop, 4, 0, o);
  EXPECT_TRUE(v.reject) << v.phone_loop_gap;
  EXPECT_NE(v.reason.find("over the answer"), std::string::npos);
  o.max_answer_gap = 0;  // off: measured, never rejects
  EXPECT_FALSE(judge_answer(path, loop, 4, 0, o).reject);
}

TEST(SphinxRejection, AnswerGapNeedsTheLoopToCoverTheAnswer) {
  RejectionOptions o;
  o.max_answer_gap = 1;
  const std::vector<SphinxSegment> path{{"uh", 10, -100, 0}, {"sales", 30, -9000, 10}};
  // Loop segments stop before the answer ends (a long turn cut at 256 segments).
  const std::vector<SphinxSegment> loop{{"AH", 10, -100, 0}, {"S", 10, -100, 10}};
  EXPECT_FALSE(judge_answer(path, loop, 1, 0, o).reject);
  // Carriers that leave no answer: no verdict.
  EXPECT_FALSE(judge_answer(path, loop, 2, 0, o).reject);
}
