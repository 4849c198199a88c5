#include <gtest/gtest.h>

#include "speech/sphinx_rejection.h"

using atende::speech::judge_segments;
using atende::speech::RejectionOptions;
using atende::speech::SphinxSegment;

// Segmentations recorded from pocketsphinx 0.8 on espeak-ng speech at 8 kHz (frames of
// 10 ms), see docs/stt.md.

TEST(SphinxRejection, AcceptsPhrasesSaidAlone) {
  RejectionOptions o;
  EXPECT_FALSE(judge_segments({{"<sil>", 26}, {"sales", 33}, {"<sil>", 24}}, o).reject);
  // A pause inside "two zero two" is still short.
  EXPECT_FALSE(
      judge_segments(
          {{"<sil>", 13}, {"two", 17}, {"<sil>", 45}, {"oh", 3}, {"two", 17}, {"<sil>", 22}}, o)
          .reject);
}

TEST(SphinxRejection, TrailingSilenceFromTheTurnDetectorDoesNotCount) {
  auto v = judge_segments({{"<sil>", 12}, {"no", 17}, {"<sil>", 90}}, {});
  EXPECT_FALSE(v.reject) << v.reason;
  EXPECT_NEAR(v.coverage, 17.0 / 29, 1e-9);
}

TEST(SphinxRejection, RejectsSpeechForcedOntoAPhrase) {
  // "what is the weather like today" heard against {yes, no}.
  auto weather = judge_segments({{"<sil>", 146}, {"yes", 11}, {"<sil>", 37}}, {});
  EXPECT_TRUE(weather.reject);
  EXPECT_NEAR(weather.max_gap_seconds, 1.46, 1e-9);
  EXPECT_NE(weather.reason.find("non-speech"), std::string::npos);
  // "wait a moment please" -> "no": short lead, words cover little.
  auto wait = judge_segments({{"<sil>", 51}, {"no", 14}, {"<sil>", 99}}, {});
  EXPECT_TRUE(wait.reject);
  EXPECT_NE(wait.reason.find("cover"), std::string::npos);
}

TEST(SphinxRejection, NothingButFillersIsRejected) {
  EXPECT_TRUE(judge_segments({}, {}).reject);
  EXPECT_TRUE(judge_segments({{"<sil>", 40}, {"[NOISE]", 20}, {"++um++", 3}}, {}).reject);
}

TEST(SphinxRejection, ThresholdsAndSwitchAreHonoured) {
  const std::vector<SphinxSegment> s{{"<sil>", 70}, {"yes", 40}};
  RejectionOptions o;
  EXPECT_TRUE(judge_segments(s, o).reject);
  o.max_gap_seconds = 0.8;
  EXPECT_FALSE(judge_segments(s, o).reject);
  o.min_coverage = 0.5;
  EXPECT_TRUE(judge_segments(s, o).reject);
  o.enabled = false;
  auto v = judge_segments(s, o);
  EXPECT_FALSE(v.reject);
  EXPECT_NEAR(v.coverage, 40.0 / 110, 1e-9);
}

TEST(SphinxRejection, FillerSpellings) {
  EXPECT_TRUE(atende::speech::is_filler_word("<sil>"));
  EXPECT_TRUE(atende::speech::is_filler_word("[NOISE]"));
  EXPECT_TRUE(atende::speech::is_filler_word("++breath++"));
  EXPECT_FALSE(atende::speech::is_filler_word("hundred(2)"));
}
