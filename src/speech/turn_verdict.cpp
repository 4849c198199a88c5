#include "speech/turn_verdict.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>

namespace atende::speech {

TurnVerdict judge_turn(const TurnMeasures& m, const RejectionOptions& o) {
  if (m.phrase < 0) return {false, "no answer read"};
  if (!o.enabled) return {true, ""};
  if (!m.has_words) return {false, "no word"};
  if (m.max_gap_seconds > o.max_gap_seconds)
    return {false, fmt::format("{:.2f} s of non-speech before the last word", m.max_gap_seconds)};
  if (m.coverage < o.min_coverage)
    return {false, fmt::format("the words cover {:.0f}% of the speech", m.coverage * 100)};
  if (o.max_phone_loop_gap > 0) {
    if (!m.phone_loop_gap) return {false, "phone loop not measured"};
    const double limit = m.carriers && o.max_answer_gap > 0
                             ? std::min(o.max_phone_loop_gap, o.max_answer_gap)
                             : o.max_phone_loop_gap;
    if (*m.phone_loop_gap > limit)
      return {false,
              fmt::format("a phone loop scores {:.0f} per word frame better", *m.phone_loop_gap)};
    // The answer gap needs the phone loop; a loop that did not cover the answer gives none.
    if (m.carriers && o.max_answer_gap > 0 && m.answer_gap && *m.answer_gap > o.max_answer_gap)
      return {false, fmt::format("a phone loop scores {:.0f} per frame better over the answer",
                                 *m.answer_gap)};
  }
  if (o.min_answer_margin > 0 && m.competitors) {
    if (!m.margin_measured) return {false, "margin not measured"};
    if (!m.margin) return {false, "no other answer has a complete path: unsure"};
    if (*m.margin < o.min_answer_margin)
      return {false,
              fmt::format("another answer scores within {:.1f} per answer frame", *m.margin)};
  }
  return {true, ""};
}

std::string describe(const TurnMeasures& m) {
  std::string s = fmt::format("phrase {}, gap {:.2f} s, coverage {:.2f}", m.phrase,
                              m.max_gap_seconds, m.coverage);
  if (!m.has_words) s += ", no word";
  if (m.carriers) s += ", carriers";
  if (m.phone_loop_gap) s += fmt::format(", loop {:.1f}", *m.phone_loop_gap);
  if (m.answer_gap) s += fmt::format(", answer {:.1f}", *m.answer_gap);
  if (m.margin_measured)
    s += m.margin ? fmt::format(", margin {:.2f}", *m.margin) : ", margin none";
  return s;
}

}  // namespace atende::speech
