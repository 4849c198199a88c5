// pocketsphinx as a streaming engine: partial hypotheses while espeak-ng speech is pushed
// frame by frame, and the same final as the one-shot engine.
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>

#include "speech/espeak_synthesizer.h"
#include "speech/sphinx_streaming.h"

// pocketsphinx 0.8 leaks a little per compiled JSGF grammar inside libsphinxbase (see
// test_speech_recognizer_sphinx.cpp).
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libsphinxbase.so\nleak:libpocketsphinx.so\n";
}

namespace atende::speech {
namespace {

std::vector<int16_t> say(const std::string& text) {
  static EspeakSynthesizer tts;
  auto clip = tts.synthesize({text, {"en-us", 165}, 8000});
  EXPECT_TRUE(clip) << text;
  std::vector<int16_t> pcm(1600, 0);
  if (clip) pcm.insert(pcm.end(), clip->pcm.begin(), clip->pcm.end());
  pcm.insert(pcm.end(), 1600, 0);
  return pcm;
}

SphinxStreaming& engine() {
  static auto e = make_sphinx_streaming({});
  return static_cast<SphinxStreaming&>(*e);
}

struct Heard {
  std::mutex mu;
  std::vector<std::string> partials;
  std::promise<Recognition> final;
  StreamHandlers handlers() {
    return {.on_partial =
                [this](std::string_view t) {
                  std::lock_guard lock(mu);
                  partials.emplace_back(t);
                },
            .on_final = [this](Recognition r) { final.set_value(std::move(r)); }};
  }
};

TEST(SphinxStreaming, PartialsWhileSpeakingAndTheGrammarsFinal) {
  Heard h;
  const std::vector<std::string> menu = {"sales", "technical support", "operator"};
  auto s = engine().start({.sample_rate = 8000, .expected = menu, .tag = "p1"}, h.handlers());
  const auto pcm = say("technical support");
  // 20 ms frames, as the media thread delivers them; paced loosely so that the decoder
  // thread sees the utterance grow (the assertions do not depend on the pace).
  for (size_t i = 0; i + 160 <= pcm.size(); i += 160) {
    s->push({pcm.data() + i, 160});
    if (i % 1600 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  s->finish();
  auto f = h.final.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(120)), std::future_status::ready);
  const Recognition r = f.get();
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.matched, "technical support");
  std::lock_guard lock(h.mu);
  ASSERT_FALSE(h.partials.empty());
  // Every partial is words of the grammar; the last one has the answer in it.
  EXPECT_NE(h.partials.back().find("support"), std::string::npos) << h.partials.back();
}

TEST(SphinxStreaming, CancelEndsTheStreamAndFreesTheDecoder) {
  Heard h;
  auto s = engine().start({.sample_rate = 8000, .expected = {"yes", "no"}}, h.handlers());
  const auto pcm = say("yes");
  s->push({pcm.data(), pcm.size() / 2});
  s->cancel();
  auto f = h.final.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_TRUE(f.get().cancelled);

  // The decoder is free again: the next stream gets partials.
  Heard next;
  const uint64_t before = engine().partials_given();
  auto s2 = engine().start({.sample_rate = 8000, .expected = {"yes", "no"}}, next.handlers());
  for (size_t i = 0; i + 160 <= pcm.size(); i += 160) s2->push({pcm.data() + i, 160});
  s2->finish();
  auto f2 = next.final.get_future();
  ASSERT_EQ(f2.wait_for(std::chrono::seconds(120)), std::future_status::ready);
  EXPECT_EQ(f2.get().matched, "yes");
  EXPECT_GT(engine().partials_given(), before);
}

TEST(SphinxStreaming, FreeSpeechIsRefusedAtOnce) {
  Heard h;
  auto s = engine().start({.sample_rate = 8000}, h.handlers());
  auto f = h.final.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_FALSE(f.get().ok);
}

}  // namespace
}  // namespace atende::speech
