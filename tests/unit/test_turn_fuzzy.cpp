// Fuzzy matching of recognised text: normalisation, number words, similarity, ambiguity.
#include <gtest/gtest.h>

#include "turn/fuzzy.h"

namespace atende::turn {
namespace {

TEST(Fuzzy, NormalisesCaseAccentsAndPunctuation) {
  EXPECT_EQ(normalize_text("João"), "joao");
  EXPECT_EQ(normalize_text("  SERVIÇO, por favor!  "), "servico por favor");
  EXPECT_EQ(normalize_text("Ângela Müller-Łukasz"), "angela muller lukasz");
  EXPECT_EQ(normalize_text("don't"), "dont");
  EXPECT_EQ(normalize_text("a\xC3"), "a");                // cut-off sequence dropped
  EXPECT_EQ(normalize_text("x\x80y\xE2\x82\xAC"), "xy");  // stray byte, euro sign
  EXPECT_EQ(normalize_text(""), "");
  EXPECT_EQ(normalized_words("Tá bom, José"), (std::vector<std::string>{"ta", "bom", "jose"}));
}

TEST(Fuzzy, NumberWordsToDigits) {
  EXPECT_EQ(words_to_digits("one two zero four"), "1204");
  EXPECT_EQ(words_to_digits("twelve oh four"), "1204");
  EXPECT_EQ(words_to_digits("twelve hundred four"), "1204");
  EXPECT_EQ(words_to_digits("one hundred and one"), "101");
  EXPECT_EQ(words_to_digits("one hundred one"), "101");
  EXPECT_EQ(words_to_digits("forty two"), "42");
  EXPECT_EQ(words_to_digits("forty"), "40");
  EXPECT_EQ(words_to_digits("twenty one twelve"), "2112");
  EXPECT_EQ(words_to_digits("one thousand two hundred four"), "1204");
  EXPECT_EQ(words_to_digits("1204"), "1204");
  EXPECT_EQ(words_to_digits("apartment 12 04"), std::nullopt);  // a non-number word
  EXPECT_EQ(words_to_digits("um dois zero quatro"), "1204");
  EXPECT_EQ(words_to_digits("Três, Dois"), "32");
  EXPECT_EQ(words_to_digits(""), std::nullopt);
  EXPECT_EQ(words_to_digits("and"), std::nullopt);
  EXPECT_EQ(words_to_digits(std::string(40, '1')), std::nullopt);  // too long
}

TEST(Fuzzy, WordSimilarity) {
  EXPECT_DOUBLE_EQ(word_similarity("smith", "smith"), 1.0);
  EXPECT_GT(word_similarity("smith", "smyth"), 0.85);
  EXPECT_GT(word_similarity("martha", "marhta"), 0.95);  // the textbook 0.961
  EXPECT_LT(word_similarity("smith", "jones"), 0.6);
  EXPECT_EQ(word_similarity("", "a"), 0.0);
  EXPECT_EQ(word_similarity("", ""), 0.0);
}

std::vector<FuzzyCandidate> residents() {
  return {{"João Silva", {}},
          {"Mary Jones", {}},
          {"Maria Souza", {}},
          {"Peter Brown", {"pete"}},
          {"John Smith", {}}};
}

TEST(Fuzzy, BestMatchAccentsTyposAndPartialNames) {
  auto r = residents();
  FuzzyMatch m = best_match("joao silva", r);
  EXPECT_EQ(m.index, 0);
  EXPECT_DOUBLE_EQ(m.score, 1.0);
  EXPECT_TRUE(m.ok());

  m = best_match("jon smyth", r);  // misheard
  EXPECT_EQ(m.index, 4);
  EXPECT_TRUE(m.ok());

  m = best_match("I am here to see peter brown please", r);  // said more
  EXPECT_EQ(m.index, 3);
  EXPECT_TRUE(m.ok());

  m = best_match("pete", r);  // an alias
  EXPECT_EQ(m.index, 3);

  m = best_match("souza", r);  // said less
  EXPECT_EQ(m.index, 2);
  EXPECT_TRUE(m.ok());
}

TEST(Fuzzy, NoMatchBelowThreshold) {
  auto r = residents();
  FuzzyMatch m = best_match("banana republic", r);
  EXPECT_EQ(m.index, -1);
  EXPECT_FALSE(m.ok());
  EXPECT_FALSE(best_match("", r).ok());
  EXPECT_FALSE(best_match("john", {}).ok());
}

TEST(Fuzzy, CloseCandidatesAreAmbiguous) {
  std::vector<FuzzyCandidate> c{{"John Smith", {}}, {"John Brown", {}}, {"Anna Lee", {}}};
  FuzzyMatch m = best_match("john", c);  // both Johns score alike
  EXPECT_TRUE(m.ambiguous);
  EXPECT_FALSE(m.ok());
  EXPECT_GE(m.index, 0);
  EXPECT_GE(m.runner_up, 0);
  EXPECT_NE(m.index, m.runner_up);

  m = best_match("john brown", c);  // the surname settles it
  EXPECT_EQ(m.index, 1);
  EXPECT_TRUE(m.ok());
}

TEST(Fuzzy, KeywordsInsideAnUtterance) {
  std::vector<FuzzyCandidate> intents{{"visita", {"visit", "visiting", "see my friend"}},
                                      {"entrega", {"delivery", "package", "ifood"}},
                                      {"servico", {"service", "repair", "maintenance"}}};
  EXPECT_EQ(best_match("i have a package for you", intents).index, 1);
  EXPECT_EQ(best_match("I came to see my friend", intents).index, 0);
  EXPECT_EQ(best_match("repairs", intents).index, 2);
  EXPECT_FALSE(best_match("hello", intents).ok());
}

}  // namespace
}  // namespace atende::turn
