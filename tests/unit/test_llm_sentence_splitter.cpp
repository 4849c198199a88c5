#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "llm/sentence_splitter.h"

namespace atende::llm {
namespace {

std::vector<std::string> split(const std::vector<std::string>& deltas,
                               SentenceSplitterOptions options = {}) {
  SentenceSplitter s(options);
  std::vector<std::string> out;
  auto emit = [&](std::string x) { out.push_back(std::move(x)); };
  for (const auto& d : deltas) s.push(d, emit);
  s.flush(emit);
  return out;
}

std::vector<std::string> split_text(const std::string& text) { return split({text}); }

// The same text streamed one byte at a time must split the same way.
std::vector<std::string> split_bytewise(const std::string& text) {
  std::vector<std::string> deltas;
  for (char c : text) deltas.emplace_back(1, c);
  return split(deltas);
}

using V = std::vector<std::string>;

TEST(SentenceSplitter, EnglishSentences) {
  const std::string t = "Hello there! How can I help you today? I can book a table. Bye";
  const V want = {"Hello there!", "How can I help you today?", "I can book a table.", "Bye"};
  EXPECT_EQ(split_text(t), want);
  EXPECT_EQ(split_bytewise(t), want);
}

TEST(SentenceSplitter, PortugueseSentencesAndAbbreviations) {
  const std::string t =
      "Bom dia, Sra. Silva! O Dr. Souza atende às 10.30 no apto. 52. Posso ajudar? Claro…  "
      "Até logo.";
  const V want = {"Bom dia, Sra. Silva!", "O Dr. Souza atende às 10.30 no apto. 52.",
                  "Posso ajudar?", "Claro…", "Até logo."};
  EXPECT_EQ(split_text(t), want);
  EXPECT_EQ(split_bytewise(t), want);
}

TEST(SentenceSplitter, NotOnAbbreviationsDecimalsInitialsOrListMarkers) {
  EXPECT_EQ(split_text("Mr. Smith paid 3.5 dollars. Then J. R. left."),
            (V{"Mr. Smith paid 3.5 dollars.", "Then J. R. left."}));
  EXPECT_EQ(split_text("Use e.g. the menu. Ok."), (V{"Use e.g. the menu.", "Ok."}));
  EXPECT_EQ(split_text("1. Open the door. 2. Close it."), (V{"1. Open the door.", "2. Close it."}));
  EXPECT_EQ(split_text("Call no. 5 now. I said no. Fine."),
            (V{"Call no. 5 now.", "I said no.", "Fine."}));
}

TEST(SentenceSplitter, QuotesAndRunsOfPunctuation) {
  EXPECT_EQ(split_text("He said \"wait.\" Then?! Really... yes"),
            (V{"He said \"wait.\"", "Then?!", "Really...", "yes"}));
}

TEST(SentenceSplitter, EmitsAsSoonAsTheNextCharacterArrives) {
  SentenceSplitter s;
  V out;
  auto emit = [&](std::string x) { out.push_back(std::move(x)); };
  s.push("Sure.", emit);
  EXPECT_TRUE(out.empty());  // could still be "Sure.com"
  s.push(" Let me", emit);
  EXPECT_EQ(out, V{"Sure."});
  EXPECT_EQ(s.pending(), " Let me");
  s.push(" check", emit);
  s.flush(emit);
  EXPECT_EQ(out, (V{"Sure.", "Let me check"}));
}

TEST(SentenceSplitter, NewlinesEndSentences) {
  EXPECT_EQ(split_text("Options\n\n- one\n- two"), (V{"Options", "- one", "- two"}));
}

TEST(SentenceSplitter, LongClauseIsCutAtACommaThenAtASpace) {
  SentenceSplitterOptions o;
  o.soft_max_chars = 40;
  o.hard_max_chars = 60;
  const std::string clause =
      "we have tables at seven and at eight and at nine, and also later tonight if you want";
  const V got = split({clause}, o);
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(got[0], "we have tables at seven and at eight and at nine,");
  const V got2 = split({"aaa bbb ccc ddd eee fff ggg hhh iii jjj kkk lll mmm nnn ooo ppp qqq"}, o);
  ASSERT_GE(got2.size(), 2u);
  for (const auto& s : got2) EXPECT_LE(s.size(), 60u);
  // No space at all: a hard cut, but never inside a UTF-8 character.
  const std::string e(20, 'a');
  const V got4 = split({e + "ééééééééééééééééééééééééé"}, o);  // 2-byte chars past the cut
  ASSERT_EQ(got4.size(), 2u);
  EXPECT_EQ(got4[0].size() % 2, 0u);  // 20 'a' + whole 2-byte characters
}

TEST(SentenceSplitter, ALongSentenceArrivingAtOnceIsStillCut) {
  SentenceSplitterOptions o;
  o.soft_max_chars = 40;
  o.hard_max_chars = 60;
  std::string text;
  for (int i = 0; i < 20; ++i) text += "blah ";
  text += "end. Next.";
  const V got = split({text}, o);
  ASSERT_GE(got.size(), 3u);
  for (const auto& s : got) EXPECT_LE(s.size(), 60u) << s;
  EXPECT_EQ(got.back(), "Next.");
}

TEST(SentenceSplitter, ResetDropsPendingText) {
  SentenceSplitter s;
  V out;
  auto emit = [&](std::string x) { out.push_back(std::move(x)); };
  s.push("Half a sent", emit);
  s.reset();
  s.push("New one. ", emit);
  s.flush(emit);
  EXPECT_EQ(out, V{"New one."});
}

TEST(SentenceSplitter, ExtraAbbreviations) {
  SentenceSplitterOptions o;
  o.abbreviations = {"Bloco"};
  EXPECT_EQ(split({"Fica no bloco. B, certo? Sim."}, o), (V{"Fica no bloco. B, certo?", "Sim."}));
}

}  // namespace
}  // namespace atende::llm
