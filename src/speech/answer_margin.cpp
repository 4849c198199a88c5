#include "speech/answer_margin.h"

namespace atende::speech {

int answer_id(const std::vector<std::string>& expected, const std::vector<int>& answer_of,
              size_t i) {
  if (answer_of.size() == expected.size()) return answer_of[i];
  // The first phrase with the same text names the answer.
  for (size_t j = 0; j < i; ++j)
    if (expected[j] == expected[i]) return static_cast<int>(j);
  return static_cast<int>(i);
}

std::vector<size_t> competing_phrases(const std::vector<std::string>& expected,
                                      const std::vector<int>& answer_of, size_t winner) {
  std::vector<size_t> out;
  if (winner >= expected.size()) return out;
  const int won = answer_id(expected, answer_of, winner);
  for (size_t i = 0; i < expected.size(); ++i)
    if (answer_id(expected, answer_of, i) != won) out.push_back(i);
  return out;
}

int answer_frames(const std::vector<SphinxSegment>& path, int words_before, int words_after) {
  int total_words = 0;
  for (const SphinxSegment& s : path) total_words += !is_filler_word(s.word);
  const int first = words_before, last = total_words - words_after - 1;
  int word = -1, frames = 0;
  for (const SphinxSegment& s : path) {
    if (is_filler_word(s.word)) continue;
    ++word;
    if (word >= first && word <= last) frames += s.frames > 0 ? s.frames : 0;
  }
  return frames;
}

std::optional<double> answer_margin(int64_t best_score, std::optional<int64_t> runner_up_score,
                                    int answer_frames) {
  if (!runner_up_score || answer_frames <= 0) return std::nullopt;
  return static_cast<double>(best_score - *runner_up_score) / answer_frames;
}

}  // namespace atende::speech
