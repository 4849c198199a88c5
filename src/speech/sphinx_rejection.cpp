#include "speech/sphinx_rejection.h"

#include <algorithm>
#include <cstdio>

namespace atende::speech {

bool is_filler_word(const std::string& word) {
  return word.empty() || word.front() == '<' || word.front() == '[' || word.front() == '+';
}

RejectionVerdict judge_segments(const std::vector<SphinxSegment>& segments,
                                const RejectionOptions& options) {
  RejectionVerdict v;
  // The last real word; everything after it is trailing silence (ignored).
  auto last = std::find_if(segments.rbegin(), segments.rend(),
                           [](const SphinxSegment& s) { return !is_filler_word(s.word); });
  if (last == segments.rend()) {
    v.reject = true;
    v.reason = "no word";
    return v;
  }
  const auto end = last.base();  // one past the last word
  int word_frames = 0, all_frames = 0, gap = 0;
  for (auto it = segments.begin(); it != end; ++it) {
    const int f = std::max(0, it->frames);
    all_frames += f;
    if (is_filler_word(it->word))
      gap = std::max(gap, f);
    else
      word_frames += f;
  }
  const double fps = options.frames_per_second > 0 ? options.frames_per_second : 100;
  v.coverage = all_frames > 0 ? static_cast<double>(word_frames) / all_frames : 0;
  v.max_gap_seconds = gap / fps;
  if (!options.enabled) return v;
  char buf[96];
  if (v.max_gap_seconds > options.max_gap_seconds) {
    std::snprintf(buf, sizeof buf, "%.2f s of non-speech before the last word", v.max_gap_seconds);
    v.reject = true;
    v.reason = buf;
  } else if (v.coverage < options.min_coverage) {
    std::snprintf(buf, sizeof buf, "the words cover %.0f%% of the speech", v.coverage * 100);
    v.reject = true;
    v.reason = buf;
  }
  return v;
}

namespace {

// Rejects when checks are on, `limit` > 0 and the measured gap is above it.
RejectionVerdict over_limit(RejectionVerdict v, const RejectionOptions& options, double limit,
                            const char* what) {
  if (!options.enabled || limit <= 0 || v.phone_loop_gap <= limit) return v;
  char buf[96];
  std::snprintf(buf, sizeof buf, "a phone loop scores %.0f %s", v.phone_loop_gap, what);
  v.reject = true;
  v.reason = buf;
  return v;
}

}  // namespace

RejectionVerdict judge_phone_loop(const std::vector<SphinxSegment>& path, int64_t phone_loop_ascr,
                                  const RejectionOptions& options) {
  RejectionVerdict v;
  int64_t path_ascr = 0;
  int word_frames = 0;
  for (const SphinxSegment& s : path) {
    path_ascr += s.ascr;
    if (!is_filler_word(s.word)) word_frames += std::max(0, s.frames);
  }
  if (word_frames == 0) {
    v.reject = true;
    v.reason = "no word";
    return v;
  }
  v.phone_loop_gap = static_cast<double>(phone_loop_ascr - path_ascr) / word_frames;
  return over_limit(v, options, options.max_phone_loop_gap, "per word frame better");
}

RejectionVerdict judge_answer(const std::vector<SphinxSegment>& path,
                              const std::vector<SphinxSegment>& loop, int words_before,
                              int words_after, const RejectionOptions& options) {
  RejectionVerdict v;
  int total_words = 0;
  for (const SphinxSegment& s : path) total_words += !is_filler_word(s.word);
  const int first = words_before, last = total_words - words_after - 1;  // word indexes
  if (first > last) return v;
  int word = -1, from = -1, to = -1;
  int64_t answer_ascr = 0;
  for (const SphinxSegment& s : path) {
    if (is_filler_word(s.word)) continue;
    ++word;
    if (word < first || word > last) continue;
    if (from < 0) from = s.start;
    to = s.start + s.frames;  // one past the answer's last frame
    answer_ascr += s.ascr;
  }
  if (from < 0 || to <= from) return v;
  double loop_ascr = 0;
  int covered = 0;
  for (const SphinxSegment& s : loop) {
    const int a = std::max(from, s.start), b = std::min(to, s.start + s.frames);
    if (b <= a || s.frames <= 0) continue;
    loop_ascr += static_cast<double>(s.ascr) * (b - a) / s.frames;
    covered += b - a;
  }
  if (covered < to - from) return v;  // segments cut short: no verdict
  v.phone_loop_gap = (loop_ascr - static_cast<double>(answer_ascr)) / (to - from);
  return over_limit(v, options, options.max_answer_gap, "per frame better over the answer");
}

}  // namespace atende::speech
