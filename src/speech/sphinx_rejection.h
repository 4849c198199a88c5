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
//
// A second, optional check (judge_phone_loop) compares the best path's acoustic score with
// an unconstrained phone loop's over the same audio: a phrase that was really said scores
// close to the phone loop, speech forced onto a phrase much worse. The difference is taken
// per frame of the decoded words, so a short phrase padded with unexplained speech scores
// badly however long the turn's silence is. Measured with tools/sttcheck (docs/stt.md
// "Phone-loop confidence"): false accepts menu 10/24 -> 1/24, names 5/24 -> 3/24, URA
// 4/8 -> 2/8, one in-grammar answer lost ("echo test" heard as "echo", the rest unexplained).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace atende::speech {

struct SphinxSegment {
  std::string word;  // "<sil>", "[NOISE]", "++um++", "sales", "hundred(2)"
  int frames = 0;
  int ascr = 0;   // acoustic score of the segment (pocketsphinx log units): judge_phone_loop
  int start = 0;  // first frame
};

struct RejectionOptions {
  bool enabled = true;
  double max_gap_seconds = 0.6;  // leading or inner silence longer than this: reject
  double min_coverage = 0.33;    // word frames / frames up to the last word's end
  int frames_per_second = 100;   // pocketsphinx default -frate
  // Reject when the phone loop scores more than this better than the best path, per frame
  // of the path's words (pocketsphinx acoustic score units). 0: off (no phone-loop pass).
  double max_phone_loop_gap = 0;
  // The same comparison over the answer's own frames only, when carriers surround it
  // (judge_answer): carriers fit well and would hide an answer forced onto other speech.
  // 0: off.
  double max_answer_gap = 0;
  // Reject when another answer explains the turn within this many score units per frame
  // of the winner's answer (speech/answer_margin.h; costs a third search). 0: off.
  double min_answer_margin = 0;
};

struct RejectionVerdict {
  bool reject = false;
  double coverage = 0;  // 0..1
  double max_gap_seconds = 0;
  double phone_loop_gap = 0;  // judge_phone_loop only
  std::string reason;         // "" or why, for logs
};

// Filler tokens of the decoder (silence, noise, breath) are not words.
bool is_filler_word(const std::string& word);

RejectionVerdict judge_segments(const std::vector<SphinxSegment>& segments,
                                const RejectionOptions& options);

// The phone-loop check: gap = (phone_loop_ascr - sum of the path's ascr) / frames of the
// path's words (fillers are not words). The two scores must come from one decoder with
// -compallsen yes: pocketsphinx normalises senone scores per frame by the best one it
// computed, which otherwise differs between the two searches. Rejects when the path has no
// word, or when enabled and gap > max_phone_loop_gap > 0.
RejectionVerdict judge_phone_loop(const std::vector<SphinxSegment>& path, int64_t phone_loop_ascr,
                                  const RejectionOptions& options);

// The answer check: the path's words after `words_before` words and before the last
// `words_after` (the carriers) are the answer; gap = (the phone loop's score over the
// answer's frames - the answer's own score) / the answer's frames. A loop segment that
// straddles the answer's edge counts by the share of its frames inside. Rejects when
// enabled and gap > max_answer_gap > 0; never rejects when the loop does not cover the
// answer (a turn longer than the segments kept).
RejectionVerdict judge_answer(const std::vector<SphinxSegment>& path,
                              const std::vector<SphinxSegment>& loop, int words_before,
                              int words_after, const RejectionOptions& options);

}  // namespace atende::speech
