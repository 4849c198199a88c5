// A streamed sentence between the TTS stream and the leg: the first chunk goes at once,
// later audio only when the leg runs low, the rest at the end; bounded; and what the
// caller heard of a sentence that grew while it played.
#include <gtest/gtest.h>

#include <vector>

#include "agent/barge_in_heard.h"
#include "agent/streamed_sentence.h"

namespace atende::agent {
namespace {

std::vector<int16_t> samples(size_t n, int16_t v = 100) { return std::vector<int16_t>(n, v); }

TEST(StreamedSentence, FirstChunkAtOnceThenWhenTheLegRunsLowThenTheRest) {
  StreamedSentence s("We have a table at eight.", 8000, {8000 * 60, 3200});
  EXPECT_EQ(s.take(0), nullptr);  // nothing yet
  ASSERT_TRUE(s.append(samples(800)));
  ClipPtr first = s.take(0);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->pcm.size(), 800u);
  EXPECT_EQ(first->sample_rate, 8000);
  EXPECT_EQ(first->label, "We have a table at eight.");
  // More arrives while the leg still has plenty queued: held back, in one buffer.
  ASSERT_TRUE(s.append(samples(800)));
  ASSERT_TRUE(s.append(samples(801)));
  EXPECT_EQ(s.take(4000), nullptr);
  EXPECT_EQ(s.buffered(), 1601u);
  // The leg runs low: everything buffered goes as one piece.
  ClipPtr second = s.take(3199);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->pcm.size(), 1601u);
  EXPECT_FALSE(s.drained());
  // The end: the rest goes whatever is queued.
  ASSERT_TRUE(s.append(samples(10)));
  s.finish("");
  ClipPtr last = s.take(100000);
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->pcm.size(), 10u);
  EXPECT_TRUE(s.drained());
  EXPECT_EQ(s.received(), 2411u);
  EXPECT_EQ(s.taken(), 2411u);
  EXPECT_EQ(s.error(), "");
}

TEST(StreamedSentence, ChunkAssemblyKeepsEverySampleInOrder) {
  StreamedSentence s("x", 8000, {100000, 500});
  std::vector<int16_t> out;
  int16_t next = 0;
  for (int chunk = 0; chunk < 50; ++chunk) {
    std::vector<int16_t> c(37 + chunk);  // odd, growing chunk sizes
    for (auto& v : c) v = next++;
    ASSERT_TRUE(s.append(c));
    if (ClipPtr p = s.take(chunk % 3 == 0 ? 0 : 1000))
      out.insert(out.end(), p->pcm.begin(), p->pcm.end());
  }
  s.finish("");
  if (ClipPtr p = s.take(1000)) out.insert(out.end(), p->pcm.begin(), p->pcm.end());
  ASSERT_EQ(out.size(), size_t(next));
  for (size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], int16_t(i));
}

TEST(StreamedSentence, OverTheBoundIsCut) {
  StreamedSentence s("long", 8000, {1000, 100});
  EXPECT_TRUE(s.append(samples(600)));
  EXPECT_FALSE(s.append(samples(600)));  // 200 of these fit
  EXPECT_TRUE(s.cut());
  EXPECT_EQ(s.received(), 1000u);
  EXPECT_FALSE(s.append(samples(1)));
  ClipPtr all = s.take(100000);  // a cut sentence hands over what it has at once
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->pcm.size(), 1000u);
  s.finish("cancelled");
  EXPECT_TRUE(s.drained());
  EXPECT_EQ(s.error(), "too long: cut");
}

TEST(StreamedSentence, FailureKeepsWhatArrived) {
  StreamedSentence s("stall", 8000);
  ASSERT_TRUE(s.append(samples(400)));
  s.finish("timeout: no data for 5000 ms");
  EXPECT_FALSE(s.drained());
  ASSERT_NE(s.take(0), nullptr);
  EXPECT_TRUE(s.drained());
  EXPECT_EQ(s.error(), "timeout: no data for 5000 ms");
}

TEST(PlayedSpeech, AStreamedSentenceGrowsAndHeardTextFollowsIt) {
  PlayedSpeech said(8000);
  said.queued("One moment please.", 8000);
  said.queued("We have a table at eight tonight.", 800);  // first piece only
  said.extend(7200);                                      // the rest arrived
  EXPECT_EQ(said.total_samples(), 16000u);
  said.advance(8000 + 4000);  // half of the second sentence
  EXPECT_EQ(said.heard_text(), "One moment please. We have a table");
  EXPECT_EQ(said.parts(), 2u);
  EXPECT_EQ(said.heard_text_from(1), "We have a table");
  EXPECT_EQ(said.heard_text_from(2), "");
  PlayedSpeech early(8000);
  early.queued("First.", 8000);
  early.queued("Second.", 8000);
  early.advance(100);
  EXPECT_EQ(early.heard_text_from(1), "");  // the second one has not started
  early.extend(0);
  PlayedSpeech none(8000);
  none.extend(100);  // no sentence: nothing to extend
  EXPECT_EQ(none.total_samples(), 0u);
}

}  // namespace
}  // namespace atende::agent
