// judge_turn: one turn's measures against a set of thresholds, in the recogniser's order;
// and the engine parameters of the second opinion.
#include <gtest/gtest.h>

#include "speech/sphinx_recognizer.h"
#include "speech/turn_verdict.h"

namespace {

using atende::speech::describe;
using atende::speech::judge_turn;
using atende::speech::RejectionOptions;
using atende::speech::sphinx_options_from;
using atende::speech::TurnMeasures;

const RejectionOptions kOn{.enabled = true,
                           .max_gap_seconds = 0.5,
                           .min_coverage = 0.5,
                           .max_phone_loop_gap = 55,
                           .max_answer_gap = 30,
                           .min_answer_margin = 6};

TurnMeasures clear_answer() {
  TurnMeasures m;
  m.phrase = 2;
  m.has_words = true;
  m.max_gap_seconds = 0.1;
  m.coverage = 0.9;
  m.phone_loop_gap = 10;
  m.competitors = true;
  m.margin_measured = true;
  m.margin = 12;
  return m;
}

TEST(TurnVerdict, AcceptsAClearAnswer) { EXPECT_TRUE(judge_turn(clear_answer(), kOn).accept); }

TEST(TurnVerdict, NoAnswerIsNeverAccepted) {
  TurnMeasures m = clear_answer();
  m.phrase = -1;
  EXPECT_FALSE(judge_turn(m, kOn).accept);
  EXPECT_FALSE(judge_turn(m, RejectionOptions{.enabled = false}).accept);
}

TEST(TurnVerdict, EachCheckRejectsOverItsThreshold) {
  TurnMeasures m = clear_answer();
  m.max_gap_seconds = 0.6;
  EXPECT_NE(judge_turn(m, kOn).reason.find("non-speech"), std::string::npos);
  m = clear_answer();
  m.coverage = 0.4;
  EXPECT_FALSE(judge_turn(m, kOn).accept);
  m = clear_answer();
  m.phone_loop_gap = 56;
  EXPECT_FALSE(judge_turn(m, kOn).accept);
  m = clear_answer();
  m.margin = 5.9;
  EXPECT_NE(judge_turn(m, kOn).reason.find("another answer"), std::string::npos);
  m.margin.reset();  // the search without the winner found no path
  EXPECT_NE(judge_turn(m, kOn).reason.find("unsure"), std::string::npos);
}

TEST(TurnVerdict, CarriersNeedTheStricterGapOnTheTurnAndTheAnswer) {
  TurnMeasures m = clear_answer();
  m.carriers = true;
  m.phone_loop_gap = 40;  // fine for a bare answer, not through carriers
  EXPECT_FALSE(judge_turn(m, kOn).accept);
  m.phone_loop_gap = 20;
  m.answer_gap = 31;
  EXPECT_FALSE(judge_turn(m, kOn).accept);
  m.answer_gap.reset();  // the loop did not cover the answer: no verdict from it
  EXPECT_TRUE(judge_turn(m, kOn).accept);
}

TEST(TurnVerdict, AnUnmeasuredCheckThatIsOnRejects) {
  TurnMeasures m = clear_answer();
  m.phone_loop_gap.reset();
  EXPECT_FALSE(judge_turn(m, kOn).accept);
  m = clear_answer();
  m.margin_measured = false;
  EXPECT_FALSE(judge_turn(m, kOn).accept);
  RejectionOptions off = kOn;
  off.max_phone_loop_gap = 0;
  off.min_answer_margin = 0;
  EXPECT_TRUE(judge_turn(m, off).accept);
  m.competitors = false;  // a single answer: no margin to have
  EXPECT_TRUE(judge_turn(m, kOn).accept);
}

TEST(TurnVerdict, DescribeNamesEveryMeasure) {
  TurnMeasures m = clear_answer();
  m.carriers = true;
  m.answer_gap = 21.5;
  EXPECT_EQ(describe(m),
            "phrase 2, gap 0.10 s, coverage 0.90, carriers, loop 10.0, answer 21.5, margin 12.00");
  m.margin.reset();
  EXPECT_NE(describe(m).find("margin none"), std::string::npos);
}

TEST(TurnVerdict, SecondOpinionParameters) {
  const auto o = sphinx_options_from({{"second_opinion", "8k"},
                                      {"agree_answer_margin", "2"},
                                      {"agree_phone_loop_gap", "70"},
                                      {"veto", "on"}});
  EXPECT_TRUE(o.second_opinion);
  EXPECT_EQ(o.second_front_end.rate, 8000);
  EXPECT_EQ(o.agreed.min_answer_margin, 2);
  EXPECT_EQ(o.agreed.max_phone_loop_gap, 70);
  EXPECT_TRUE(o.veto);
  EXPECT_FALSE(sphinx_options_from({{"second_opinion", "off"}}).second_opinion);
  // The same front end twice would decode the same way: the second gets other noise.
  EXPECT_NE(sphinx_options_from({{"second_opinion", "narrow_noise"}}).second_front_end.seed,
            sphinx_options_from({}).front_end.seed);
  EXPECT_EQ(sphinx_options_from({{"second_opinion", "wide_noise"}}).second_front_end.seed,
            sphinx_options_from({}).front_end.seed);
  EXPECT_TRUE(sphinx_options_from({{"noise_band", "wide"}}).front_end.wide_noise);
  EXPECT_EQ(sphinx_options_from({{"decode_rate", "8000"}}).front_end.rate, 8000);
  EXPECT_TRUE(sphinx_options_from({{"reject", "log"}}).log_only);
  EXPECT_FALSE(sphinx_options_from({{"reject", "off"}}).agreed.enabled);
  EXPECT_THROW(sphinx_options_from({{"second_opinion", "maybe"}}), std::invalid_argument);
  EXPECT_THROW(sphinx_options_from({{"decode_rate", "11025"}}), std::invalid_argument);
  EXPECT_THROW(sphinx_options_from({{"agree_answer_margin", "-1"}}), std::invalid_argument);
  EXPECT_THROW(sphinx_options_from({{"agree_colour", "1"}}), std::invalid_argument);
}

}  // namespace
