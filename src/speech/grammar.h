// Grammars for the embedded recogniser, built from the phrases a flow expects at a step.
//
// pocketsphinx is reliable only when it listens for a closed set of phrases (JSGF), so
// every expected phrase is turned into the ways a caller may say it, in words of the
// pronouncing dictionary:
//   "Sales"   -> "sales"
//   "101"     -> "one zero one" | "one oh one" | "one hundred one" | "one hundred and one"
//   "12"      -> "twelve" | "one two"
//   "Mrs. Smith, 2B" -> "mrs smith two b" (punctuation is dropped)
// A phrase with a word the dictionary lacks (or with non-ASCII letters) is dropped and
// reported in Grammar::dropped: the decoder cannot say words it cannot pronounce.
//
// People wrap answers in words ("I'm here to see John Smith", "support please", "uh, the
// delivery"). Carriers are those words: optional before and after the answer, never an
// answer themselves. The grammar is `[<before>] <answer> [<after>]`, so the decoder
// explains the whole turn with words it knows instead of forcing "I'm here to see" onto
// the nearest name (measured: it came back as another resident), and phrase_of() reads
// the answer back from between them.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "speech/recognizer.h"  // Carriers

namespace atende::speech {

// The words of a CMU-style pronouncing dictionary ("word PH ON ES", "word(2) ...").
class PronouncingDictionary {
 public:
  // Throws std::runtime_error if the file cannot be read.
  static PronouncingDictionary load(const std::string& path);
  static PronouncingDictionary from_words(std::vector<std::string> words);  // tests
  bool contains(std::string_view word) const { return words_.count(std::string(word)) != 0; }
  size_t size() const { return words_.size(); }
  // A word the decoder was taught besides the file (speech/extra_words.h).
  void add(std::string_view word) { words_.emplace(word); }

 private:
  std::unordered_set<std::string> words_;
};

// The spoken forms of one phrase: lowercase ASCII words separated by one space, numbers
// spelled out (several readings), punctuation dropped. Empty if the phrase has nothing
// speakable.
std::vector<std::string> spoken_forms(std::string_view phrase);

// Words for 0..9999 read naturally ("one hundred one"); "" outside that range.
std::string number_words(int n);

struct Grammar {
  struct Alternative {
    std::string words;  // "one oh one"
    int phrase = 0;     // index into the expected phrases
  };
  std::string jsgf;  // "" if no phrase survived
  std::vector<Alternative> alternatives;
  std::vector<std::string> dropped;  // expected phrases (as given) with unknown words
  std::string key;                   // identical for identical phrase lists (cache key)
  // Spoken forms of the carriers that survived the dictionary, longest first.
  std::vector<std::string> before, after;

  bool empty() const { return alternatives.empty(); }
  // The expected-phrase index a decoded word string belongs to, or -1. Carriers around
  // the answer are skipped; a carrier alone is no answer.
  int phrase_of(std::string_view words) const { return read(words).phrase; }
  // The same, with how many words of carriers came before and after the answer.
  struct Reading {
    int phrase = -1;
    int words_before = 0;
    int words_after = 0;
  };
  Reading read(std::string_view words) const;
};

// Limits keep a hostile or mistaken flow from building a grammar that takes seconds to
// compile.
constexpr size_t kMaxGrammarPhrases = 2000;
constexpr size_t kMaxPhraseBytes = 200;

// With `garbage`, the grammar also offers a loop of common filler words that are not part
// of any expected phrase ("the", "hello", "um", "pizza"...): speech that is none of the
// phrases tends to decode as that loop instead of being forced onto the nearest phrase.
// Such a result reads back as no phrase (phrase_of() == -1), i.e. out of grammar.
// Measured with pocketsphinx 0.8: unweighted, the loop also swallows in-grammar words, so
// SphinxRecognizer leaves it off by default.
Grammar build_grammar(const std::vector<std::string>& expected,
                      const PronouncingDictionary& dictionary, bool garbage = false,
                      const Carriers& carriers = {});

// At most this many carrier phrases on each side (a flow's list is bounded like phrases).
constexpr size_t kMaxCarriers = 200;

}  // namespace atende::speech
