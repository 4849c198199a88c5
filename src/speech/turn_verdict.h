// Accept or reject a grammar-mode turn from its measures, apart from measuring them.
//
// SphinxRecognizer measures a turn in up to three searches (the grammar, a phone loop, the
// grammar without the winner's answer: sphinx_rejection.h, answer_margin.h) and every
// check has a threshold (RejectionOptions). Keeping the measures in one value lets the
// recogniser judge one turn against two sets of thresholds (a stricter one alone, a looser
// one when a second decode of the turn names the same answer: SphinxOptions::second_opinion)
// and log every measure (`reject: log`) to calibrate thresholds on real calls.
//
//   TurnMeasures m = ...;                        // filled by the recogniser
//   TurnVerdict v = judge_turn(m, options.rejection);
//   spdlog::debug("{} -> {}", describe(m), v.reason);
#pragma once
#include <optional>
#include <string>

#include "speech/sphinx_rejection.h"

namespace atende::speech {

struct TurnMeasures {
  int phrase = -1;        // expected-phrase index the best path reads as; -1: none
  bool carriers = false;  // carrier words were read around the answer
  // Segmentation of the best path (judge_segments); has_words false: nothing but fillers.
  bool has_words = false;
  double max_gap_seconds = 0;
  double coverage = 0;
  // Phone-loop gaps (judge_phone_loop, judge_answer); unset: not measured (the check is
  // off, an earlier check already rejected, or the loop did not cover the answer).
  std::optional<double> phone_loop_gap;
  std::optional<double> answer_gap;
  // Answer margin (answer_margin.h): measured only when another answer exists; unset value
  // with margin_measured: the search without the winner found no complete path.
  bool competitors = false;
  bool margin_measured = false;
  std::optional<double> margin;
};

struct TurnVerdict {
  bool accept = false;
  std::string reason;  // why not, or "" when accepted
};

// The checks in the recogniser's order: an answer was read, segmentation, phone-loop gap
// (under max_answer_gap too when carriers were read), answer gap, answer margin. A check
// whose threshold is off (0, or `enabled` false) passes; a check that is on but was not
// measured rejects ("not measured"), so a recogniser that stops measuring after a failed
// check can never accept by accident.
TurnVerdict judge_turn(const TurnMeasures& m, const RejectionOptions& o);

// "phrase 3, gap 0.12 s, coverage 0.80, loop 12, answer 20, margin 7.1" for logs and
// benches (tools that tune thresholds parse it: keep the keys).
std::string describe(const TurnMeasures& m);

}  // namespace atende::speech
