#include <gtest/gtest.h>

#include "speech/grammar.h"

using namespace atende::speech;

namespace {
PronouncingDictionary dict() {
  return PronouncingDictionary::from_words(
      {"sales",  "support", "one",  "two",   "zero",   "oh",    "hundred",  "and",
       "twelve", "four",    "john", "smith", "don't",  "three", "the",      "a",
       "i'm",    "here",    "to",   "see",   "please", "uh",    "apartment"});
}
bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace

TEST(Grammar, NumberWords) {
  EXPECT_EQ(number_words(0), "zero");
  EXPECT_EQ(number_words(13), "thirteen");
  EXPECT_EQ(number_words(42), "forty two");
  EXPECT_EQ(number_words(101), "one hundred one");
  EXPECT_EQ(number_words(2000), "two thousand");
  EXPECT_EQ(number_words(1204), "one thousand two hundred four");
  EXPECT_EQ(number_words(10000), "");
}

TEST(Grammar, SpokenFormsNormaliseAndSpellNumbers) {
  EXPECT_EQ(spoken_forms("  Sales! "), std::vector<std::string>{"sales"});
  EXPECT_EQ(spoken_forms("'Don't'"), std::vector<std::string>{"don't"});
  auto f = spoken_forms("101");
  EXPECT_TRUE(has(f, "one zero one"));
  EXPECT_TRUE(has(f, "one oh one"));
  EXPECT_TRUE(has(f, "one hundred one"));
  EXPECT_TRUE(has(f, "one hundred and one"));
  auto g = spoken_forms("1204");
  EXPECT_TRUE(has(g, "twelve oh four"));
  auto z = spoken_forms("007");  // leading zero: digit by digit only
  EXPECT_TRUE(has(z, "zero zero seven"));
  EXPECT_TRUE(has(z, "oh oh seven"));
  EXPECT_FALSE(has(z, "seven"));
  EXPECT_EQ(spoken_forms("apt 2B"), (std::vector<std::string>{"apt two b"}));
  EXPECT_TRUE(spoken_forms("José").empty());  // non-ASCII: cannot be said by en-us
  EXPECT_TRUE(spoken_forms("?!").empty());
  EXPECT_LE(spoken_forms("101 202 303 404 505").size(), 16u);  // bounded combinations
}

TEST(Grammar, BuildsJsgfAndMapsBackToThePhrase) {
  auto g = build_grammar({"Sales", "Support", "101", "Xylophonist"}, dict());
  ASSERT_FALSE(g.empty());
  EXPECT_EQ(g.dropped, std::vector<std::string>{"Xylophonist"});
  EXPECT_NE(g.jsgf.find("#JSGF V1.0;"), std::string::npos);
  EXPECT_NE(g.jsgf.find("public <choice> = sales"), std::string::npos);
  EXPECT_EQ(g.phrase_of("sales"), 0);
  EXPECT_EQ(g.phrase_of("support"), 1);
  EXPECT_EQ(g.phrase_of("one oh one"), 2);
  EXPECT_EQ(g.phrase_of("one hundred and one"), 2);
  EXPECT_EQ(g.phrase_of("xylophonist"), -1);
  EXPECT_EQ(g.jsgf.find("garbage"), std::string::npos);
}

TEST(Grammar, SameListSameKeyAndDuplicatesKeepTheFirst) {
  auto a = build_grammar({"sales", "Sales"}, dict());
  EXPECT_EQ(a.alternatives.size(), 1u);
  EXPECT_EQ(a.phrase_of("sales"), 0);
  EXPECT_EQ(build_grammar({"a", "b"}, dict()).key, build_grammar({"a", "b"}, dict()).key);
  EXPECT_NE(build_grammar({"a", "b"}, dict()).key, build_grammar({"ab"}, dict()).key);
}

TEST(Grammar, NothingSpeakableGivesAnEmptyGrammar) {
  auto g = build_grammar({"Xylophonist", "Ñandú"}, dict());
  EXPECT_TRUE(g.empty());
  EXPECT_TRUE(g.jsgf.empty());
  EXPECT_EQ(g.dropped.size(), 2u);
}

TEST(Grammar, BoundsOnSize) {
  std::vector<std::string> many(kMaxGrammarPhrases + 5, "sales");
  many.push_back(std::string(kMaxPhraseBytes + 1, 'a'));
  auto g = build_grammar(many, dict());
  EXPECT_EQ(g.dropped.size(), 6u);
}

TEST(Grammar, GarbageLoopExcludesExpectedWords) {
  auto g = build_grammar({"the sales"}, dict(), /*garbage=*/true);
  EXPECT_NE(g.jsgf.find("public <choice> = the sales\n  | <garbage>;"), std::string::npos)
      << g.jsgf;
  EXPECT_NE(g.jsgf.find("<garbage> = (a | and | to | uh | please | see | oh | here)+;"),
            std::string::npos)
      << g.jsgf;  // not "the"
}

TEST(Grammar, LoadsTheCmuDictionary) {
  auto d = PronouncingDictionary::load("/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict");
  EXPECT_GT(d.size(), 100000u);
  EXPECT_TRUE(d.contains("operator"));
  EXPECT_TRUE(d.contains("read"));  // "read(2)" alternates fold into one word
  EXPECT_THROW(PronouncingDictionary::load("/nonexistent.dict"), std::runtime_error);
}

TEST(Grammar, CarriersWrapTheAnswerAndAreReadPast) {
  Carriers carriers{{"I'm here to see", "to see", "uh", "Xylophonist"}, {"please"}};
  auto g = build_grammar({"John Smith", "1204"}, dict(), false, carriers);
  ASSERT_FALSE(g.empty());
  EXPECT_NE(g.jsgf.find("public <turn> = [<before>] <choice> [<after>];"), std::string::npos);
  EXPECT_NE(g.jsgf.find("<before> = i'm here to see"), std::string::npos);  // longest first
  EXPECT_NE(g.jsgf.find("<after> = please;"), std::string::npos);
  EXPECT_EQ(g.dropped, std::vector<std::string>{"Xylophonist"});  // not in the dictionary
  EXPECT_EQ(g.phrase_of("john smith"), 0);
  EXPECT_EQ(g.phrase_of("i'm here to see john smith"), 0);
  EXPECT_EQ(g.phrase_of("to see john smith please"), 0);
  EXPECT_EQ(g.phrase_of("uh twelve oh four"), 1);
  auto r = g.read("i'm here to see john smith please");
  EXPECT_EQ(r.phrase, 0);
  EXPECT_EQ(r.words_before, 4);
  EXPECT_EQ(r.words_after, 1);
  r = g.read("john smith");
  EXPECT_EQ(r.words_before + r.words_after, 0);
  // A carrier alone, or around nothing known, is no answer.
  EXPECT_EQ(g.phrase_of("please"), -1);
  EXPECT_EQ(g.phrase_of("uh please"), -1);
  EXPECT_EQ(g.phrase_of("i'm here to see"), -1);
  EXPECT_EQ(g.phrase_of("uhjohn smith"), -1);  // whole words only
  // Other carriers, another grammar.
  EXPECT_NE(g.key, build_grammar({"John Smith", "1204"}, dict()).key);
}

TEST(Grammar, CarriersAreBounded) {
  Carriers many;
  for (int i = 0; i < 300; ++i) many.before.push_back("uh");
  auto g = build_grammar({"sales"}, dict(), false, many);
  EXPECT_EQ(g.before, std::vector<std::string>{"uh"});  // duplicates once, the rest dropped
  EXPECT_EQ(g.dropped.size(), 100u);
}
