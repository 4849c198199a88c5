// What the words said so far tell about the end of a turn. A caller who stops after "I
// want to book a table for" is not done; one who says "yes" is. The turn detector waits
// longer or shorter on these hints (turn_detector.h), and the barge-in policy recognises
// backchannels ("uh-huh", "ok", "aham") with the same word splitting (barge_in.h).
//
// English and Brazilian Portuguese, on the plain text a recogniser returns (any case,
// punctuation or not). Called when recognised text arrives, not per frame.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace atende::turn {

enum class TurnEnding {
  kNeutral,     // nothing to go on: the default wait
  kUnfinished,  // ends in a conjunction, preposition, article or filler, or "...", ",": wait longer
  kComplete,    // a whole short answer (yes/no, sim/não, ok) or a sentence the recogniser
                // closed with "?", "!" or "." (not after "for", "and"): wait less
  kNumber,      // a digit string ("4 5 6", "cento e um"): whole, but numbers are read in
                // groups with pauses between them: a wait between the two
};

TurnEnding classify_ending(std::string_view text);

// Lower-cased words of `text`: letters (ASCII and UTF-8 multi-byte), digits, inner
// apostrophes and hyphens; everything else separates. Latin-1 capitals (À..Þ) are lowered
// too, so "NÃO" and "não" match. Words longer than 64 bytes are cut (untrusted text).
std::vector<std::string> split_words(std::string_view text);

// True when every word is a digit string or a number word (en, pt-br): "4 5 6", "one two".
bool is_digit_string(const std::vector<std::string>& words);

}  // namespace atende::turn
