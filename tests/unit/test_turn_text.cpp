#include <gtest/gtest.h>

#include <string>

#include "turn/turn_text.h"

namespace atende::turn {
namespace {

TEST(SplitWords, LowerCasesAndDropsPunctuation) {
  EXPECT_EQ(split_words("Yes, PLEASE!"), (std::vector<std::string>{"yes", "please"}));
  EXPECT_EQ(split_words("NÃO, É ISSO."), (std::vector<std::string>{"não", "é", "isso"}));
  EXPECT_EQ(split_words("uh-huh... that's it"),
            (std::vector<std::string>{"uh-huh", "that's", "it"}));
  EXPECT_EQ(split_words("  -- 'quoted' --  "), (std::vector<std::string>{"quoted"}));
  EXPECT_TRUE(split_words("").empty());
  EXPECT_TRUE(split_words("?!., ").empty());
}

TEST(SplitWords, BoundsUntrustedText) {
  const auto long_word = split_words(std::string(10000, 'a'));
  ASSERT_EQ(long_word.size(), 1u);
  EXPECT_EQ(long_word[0].size(), 64u);
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "w ";
  EXPECT_EQ(split_words(many).size(), 256u);
  // A lone lead byte at the end is kept as a byte, never read past.
  EXPECT_EQ(split_words("abc\xC3").size(), 1u);
}

TEST(ClassifyEnding, UnfinishedPhrasesWaitLonger) {
  for (const char* text :
       {"I want to book a table for", "my name is John and", "I'd like to talk to the", "so um",
        "uh", "it's about my, uh", "quero marcar uma consulta para", "é o apartamento de",
        "eu queria saber se", "então", "wait...", "my number is,", "cento e"}) {
    EXPECT_EQ(classify_ending(text), TurnEnding::kUnfinished) << text;
  }
}

TEST(ClassifyEnding, CompleteShortAnswersWaitLess) {
  for (const char* text :
       {"yes", "No.", "yeah", "okay", "sim", "Não", "não.", "claro", "thank you", "that's it",
        "isso"}) {
    EXPECT_EQ(classify_ending(text), TurnEnding::kComplete) << text;
  }
  // Numbers are whole too, but read in groups: their own wait.
  for (const char* text : {"4 5 6", "one two three", "1234", "cento e um"}) {
    EXPECT_EQ(classify_ending(text), TurnEnding::kNumber) << text;
  }
}

TEST(ClassifyEnding, ASentenceTheRecogniserClosedIsComplete) {
  for (const char* text : {"What time do you open?", "I'd like to book a table for four people.",
                           "That's great!", "Quero marcar para sexta.", "\"Is it open?\" "}) {
    EXPECT_EQ(classify_ending(text), TurnEnding::kComplete) << text;
  }
  // The words win over the full stop: a cut-off sentence is not closed by punctuation.
  for (const char* text : {"I'd like to book a table for.", "I need help with my.", "e aí..."}) {
    EXPECT_EQ(classify_ending(text), TurnEnding::kUnfinished) << text;
  }
}

TEST(ClassifyEnding, EverythingElseIsNeutral) {
  for (const char* text :
       {"", "   ", "I would like a table for two people", "my apartment number is 302 please come",
        "a reserva é amanhã", "yes I would like to change my booking"}) {
    EXPECT_EQ(classify_ending(text), TurnEnding::kNeutral) << text;
  }
}

TEST(DigitString, NumbersAndNumberWords) {
  EXPECT_TRUE(is_digit_string({"1", "2", "3"}));
  EXPECT_TRUE(is_digit_string({"dois", "três", "meia"}));
  EXPECT_FALSE(is_digit_string({}));
  EXPECT_FALSE(is_digit_string({"e"}));
  EXPECT_FALSE(is_digit_string({"apartment", "12"}));
}

}  // namespace
}  // namespace atende::turn
