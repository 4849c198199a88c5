// Close calls between answers: how much better the best answer explains the turn than the
// best *other* answer does.
//
// The phone-loop checks (sphinx_rejection.h) ask "is this turn any answer at all?"; they
// cannot tell two answers apart: a wrong but similar answer scores as close to the phone
// loop as the right one ("it's a service" -> "it's a delivery", answer gap 30, under the
// 35 that right answers need). pocketsphinx's own n-best rarely holds another answer (7
// of 10 false accepts had none among the 20 best, docs/stt.md), so the runner-up is found
// by force: the same turn is decoded again with a grammar that lacks the winner's answer
// (every phrase that stands for it, carriers kept). The margin is the difference of the
// two paths' scores per frame of the winner's answer. A small margin means the turn could
// as well be another answer, or none (unrelated speech fits every answer about equally
// badly): a wrong match is worse than asking again, so it is rejected.
//
//   competitors = competing_phrases(expected, answer_of, winner)   // phrase indexes
//   margin = answer_margin(best_score, runner_up_score, answer_frames)  // judge_turn judges it
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "speech/sphinx_rejection.h"

namespace atende::speech {

// The answer phrase `i` stands for: answer_of[i] when given (same size as expected),
// otherwise phrases with identical text are one answer ("1204" listed for two residents).
int answer_id(const std::vector<std::string>& expected, const std::vector<int>& answer_of,
              size_t i);

// Indexes of the expected phrases that stand for another answer than phrase `winner`.
// Empty when every phrase is the winner's answer (nothing to compare with).
std::vector<size_t> competing_phrases(const std::vector<std::string>& expected,
                                      const std::vector<int>& answer_of, size_t winner);

// Frames of the path's answer: its words after `words_before` words and before the last
// `words_after` (the carriers, Grammar::Reading); fillers between them are not counted.
int answer_frames(const std::vector<SphinxSegment>& path, int words_before, int words_after);

// (best - runner_up) / answer_frames: score per frame of the winner's answer by which it
// beats the best other answer (negative: a partial path scored better). std::nullopt when
// the runner-up search found no complete path: one would expect it to mean "no other
// answer fits", but measured on the tuning set it was mostly unrelated speech ("hello": 7
// false accepts against 5 right answers), so judge_turn (turn_verdict.h) takes it as
// unsure. answer_frames must be > 0.
std::optional<double> answer_margin(int64_t best_score, std::optional<int64_t> runner_up_score,
                                    int answer_frames);

}  // namespace atende::speech
