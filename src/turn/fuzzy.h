// Fuzzy matching of recognised speech against what a flow expects: resident names, intent
// keywords, apartment numbers. Recognisers mishear ("jon smyth"), callers say more than
// the keyword ("I have a package for you") or less ("john"), and pt-br names carry
// accents the recogniser never writes ("João" is heard as "joao"). So both sides are
// normalised, compared word by word, and the best candidate wins only when it is clearly
// better than the next: two close candidates are reported as ambiguous, so the flow asks
// again instead of guessing.
//
// Example:
//   std::vector<FuzzyCandidate> residents{{"João Silva", {}}, {"Mary Jones", {"mary"}}};
//   FuzzyMatch m = best_match("joao silva", residents);   // m.index == 0, m.score == 1
//   words_to_digits("twelve oh four") == "1204"
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atende::turn {

// Lowercase, accents stripped (Latin-1 supplement and Latin Extended-A letters: "João" ->
// "joao", "serviço" -> "servico"), everything but letters and digits turned into spaces,
// runs of spaces collapsed. Other non-ASCII characters are dropped.
std::string normalize_text(std::string_view text);

// The normalised words of `text`.
std::vector<std::string> normalized_words(std::string_view text);

// A spoken number as digits: "one two zero four", "twelve oh four", "twelve hundred four",
// "one hundred and one", "1204", "um dois" (pt-br single digits). nullopt if any word is
// not part of a number, or there are no words, or the result is longer than 32 digits.
std::optional<std::string> words_to_digits(std::string_view text);

// Jaro-Winkler similarity of two words, 0..1.
double word_similarity(std::string_view a, std::string_view b);

// Similarity of an utterance and a phrase, 0..1, both already normalised into words:
// the better of "every phrase word is in the utterance" (the caller said more) and "every
// utterance word is in the phrase" (the caller said less), each word taking its best
// Jaro-Winkler partner. One-letter utterance words are ignored on the second side.
double phrase_similarity(std::span<const std::string> utterance,
                         std::span<const std::string> phrase);

struct FuzzyCandidate {
  std::string value;                 // what is stored when it matches ("João Silva")
  std::vector<std::string> aliases;  // other ways to say it ("john", "joao")
};

struct FuzzyOptions {
  double threshold = 0.80;  // below: no match
  // The runner-up within this of the best score (and above threshold): ambiguous.
  double ambiguity_margin = 0.04;
};

struct FuzzyMatch {
  int index = -1;  // best candidate over the threshold, -1 if none
  double score = 0;
  bool ambiguous = false;
  int runner_up = -1;  // second-best candidate (any score), -1 if none
  double runner_up_score = 0;
  // A usable answer: a candidate over the threshold and not ambiguous.
  bool ok() const { return index >= 0 && !ambiguous; }
};

// The candidate whose value or an alias best matches `text`.
FuzzyMatch best_match(std::string_view text, std::span<const FuzzyCandidate> candidates,
                      const FuzzyOptions& options = {});

}  // namespace atende::turn
