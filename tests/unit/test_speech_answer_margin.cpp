#include <gtest/gtest.h>

#include "speech/answer_margin.h"

using namespace atende::speech;

TEST(AnswerMargin, IdenticalPhrasesAreOneAnswerUnlessToldOtherwise) {
  // The gate's apartments: 1204 is listed for two residents.
  const std::vector<std::string> apartments{"1204", "302", "1204", "101"};
  EXPECT_EQ(answer_id(apartments, {}, 0), 0);
  EXPECT_EQ(answer_id(apartments, {}, 2), 0);
  EXPECT_EQ(answer_id(apartments, {}, 3), 3);
  EXPECT_EQ(competing_phrases(apartments, {}, 2), (std::vector<size_t>{1, 3}));

  // A choices step: "service" and "repair" stand for one value.
  const std::vector<std::string> intents{"visit", "delivery", "service", "repair"};
  const std::vector<int> answer_of{0, 1, 2, 2};
  EXPECT_EQ(competing_phrases(intents, answer_of, 3), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(competing_phrases(intents, answer_of, 0), (std::vector<size_t>{1, 2, 3}));
  // A mapping of the wrong size is ignored rather than read out of bounds.
  EXPECT_EQ(competing_phrases(intents, {0, 1}, 3), (std::vector<size_t>{0, 1, 2}));
}

TEST(AnswerMargin, NothingToCompareWithWhenEveryPhraseIsTheWinnersAnswer) {
  EXPECT_TRUE(competing_phrases({"yes", "yeah"}, {0, 0}, 1).empty());
  EXPECT_TRUE(competing_phrases({"yes"}, {}, 0).empty());
  EXPECT_TRUE(competing_phrases({"yes", "no"}, {}, 7).empty());  // no such winner
}

TEST(AnswerMargin, AnswerFramesSkipCarriersAndFillers) {
  // "<sil> i'm here to see john smith please <sil>": 4 words before, 1 after.
  const std::vector<SphinxSegment> path{
      {"<sil>", 20, 0, 0},    {"i'm", 10, 0, 20},   {"here", 15, 0, 30}, {"to", 5, 0, 45},
      {"see", 12, 0, 50},     {"john", 25, 0, 62},  {"<sil>", 3, 0, 87}, {"smith", 30, 0, 90},
      {"please", 28, 0, 120}, {"<sil>", 60, 0, 148}};
  EXPECT_EQ(answer_frames(path, 4, 1), 55);
  EXPECT_EQ(answer_frames(path, 0, 0), 125);
  EXPECT_EQ(answer_frames(path, 9, 0), 0);  // carriers cover everything: no answer
}

TEST(AnswerMargin, ScorePerAnswerFrame) {
  // Scores are log-likelihoods (higher is better): best -1000, runner-up -1100 over 50
  // answer frames is a margin of 2 per frame (judge_turn compares it with the threshold).
  EXPECT_DOUBLE_EQ(*answer_margin(-1000, -1100, 50), 2);
  EXPECT_DOUBLE_EQ(*answer_margin(-1000, -1200, 50), 4);
  // A runner-up that scores better than the winner (a partial path): negative.
  EXPECT_DOUBLE_EQ(*answer_margin(-1000, -900, 50), -2);
  // Other answers exist but none has a complete path: no margin (judge_turn: unsure).
  EXPECT_FALSE(answer_margin(-1000, std::nullopt, 50));
  EXPECT_FALSE(answer_margin(-1000, -1001, 0));
}
