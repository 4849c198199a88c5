// Out-of-grammar rejection for the grammar-mode recogniser, from the word segmentation of
// the best path (free: no second pass).
//
// A grammar decoder must explain every frame with a path through the grammar, so speech
// that is none of the phrases comes back as the nearest phrase padded with long stretches
// of "silence" (<sil>) that are really the unmatched words: "what is the weather like
// today" against {yes, no} decodes as "<sil>:146 yes:11 <sil>:37" (frames of 10 ms).
// Two measures catch that:
//  - the longest silence before the last word (leading or between words): a caller who
//    says a phrase does not pause 0.6 s inside it or after the pre-roll;
//  - coverage: frames inside words / frames up to the end of the last word.
// Trailing silence is ignored: the turn detector leaves up to ~700 ms of it.
// Measured on espeak-ng speech at 8 kHz (docs/stt.md): false accepts of unrelated speech
// 10/30 -> 4/30, noise 1/6 -> 0/6, correct in-grammar accepts unchanged (21/34).
// What it cannot catch: short out-of-grammar words of about the length of a phrase
// ("excuse me" -> "billing").
#pragma once
#include <string>
#include <vector>

namespace atende::speech {

struct SphinxSegment {
  std::string word;  // "<sil>", "[NOISE]", "++um++", "sales", "hundred(2)"
  int frames = 0;
};

struct RejectionOptions {
  bool enabled = true;
  double max_gap_seconds = 0.6;  // leading or inner silence longer than this: reject
  double min_coverage = 0.33;    // word frames / frames up to the last word's end
  int frames_per_second = 100;   // pocketsphinx default -frate
};

struct RejectionVerdict {
  bool reject = false;
  double coverage = 0;  // 0..1
  double max_gap_seconds = 0;
  std::string reason;  // "" or why, for logs
};

// Filler tokens of the decoder (silence, noise, breath) are not words.
bool is_filler_word(const std::string& word);

RejectionVerdict judge_segments(const std::vector<SphinxSegment>& segments,
                                const RejectionOptions& options);

}  // namespace atende::speech
