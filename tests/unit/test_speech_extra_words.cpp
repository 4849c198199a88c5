// The built-in Portuguese words taught to the embedded recogniser (speech/extra_words.h):
// well-formed, in the en-us model's phone set, and honoured by the grammar builder.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "speech/extra_words.h"
#include "speech/sphinx_recognizer.h"

// pocketsphinx 0.8 leaks a little per compiled grammar inside its own libraries (see
// test_speech_recognizer_sphinx.cpp).
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libsphinxbase.so\nleak:libpocketsphinx.so\n";
}

namespace atende::speech {
namespace {

TEST(SpeechExtraWords, LowercaseAsciiWordsInEnUsPhones) {
  const std::set<std::string> phones{"AA", "AE", "AH", "AO", "AW", "AY", "B",  "CH", "D",  "DH",
                                     "EH", "ER", "EY", "F",  "G",  "HH", "IH", "IY", "JH", "K",
                                     "L",  "M",  "N",  "NG", "OW", "OY", "P",  "R",  "S",  "SH",
                                     "T",  "TH", "UH", "UW", "V",  "W",  "Y",  "Z",  "ZH"};
  ASSERT_FALSE(builtin_extra_words().empty());
  for (const ExtraWord& w : builtin_extra_words()) {
    for (char c : w.word) EXPECT_TRUE(c >= 'a' && c <= 'z') << w.word;
    std::istringstream in{std::string(w.phones)};
    std::string p;
    int n = 0;
    while (in >> p) {
      EXPECT_TRUE(phones.count(p)) << w.word << ": " << p;
      ++n;
    }
    EXPECT_GT(n, 0) << w.word;
  }
}

TEST(SpeechExtraWords, PortugueseMenuWordsReachTheGrammarOnlyWhenOn) {
  const std::vector<std::string> ura{"vendas", "suporte", "dois", "tres"};
  SphinxRecognizer with;
  EXPECT_TRUE(with.grammar_for(ura)->dropped.empty());
  SphinxOptions off;
  off.extra_words = false;
  SphinxRecognizer without(off);
  EXPECT_EQ(without.grammar_for(ura)->dropped.size(), ura.size());
  EXPECT_THROW(sphinx_options_from({{"extra_words", "maybe"}}), std::invalid_argument);
  EXPECT_FALSE(sphinx_options_from({{"extra_words", "off"}}).extra_words);
  EXPECT_EQ(sphinx_options_from({{"noise_floor", "0"}}).noise_floor, 0);
  EXPECT_THROW(sphinx_options_from({{"noise_floor", "-1"}}), std::invalid_argument);
}

}  // namespace
}  // namespace atende::speech
