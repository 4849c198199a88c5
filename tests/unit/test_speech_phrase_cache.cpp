#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "speech/espeak_synthesizer.h"
#include "speech/phrase_cache.h"

namespace atende::speech {
namespace {

// Makes one sample per character at the phrase's rate. Thread-safe; can be held closed
// so tests can pile requests up behind a synthesis in progress.
class FakeSynthesizer : public Synthesizer {
 public:
  ClipPtr synthesize(const Phrase& phrase) override {
    {
      std::unique_lock lock(mutex_);
      ++started_;
      started_cv_.notify_all();
      open_cv_.wait(lock, [this] { return open_; });
    }
    ++calls;
    threads_seen.insert_thread(std::this_thread::get_id());
    if (phrase.text == "throw") throw std::runtime_error("boom");
    if (phrase.text == "fail") return nullptr;
    auto clip = std::make_shared<Clip>();
    clip->sample_rate = phrase.sample_rate;
    clip->pcm.assign(phrase.text.size() * 100, 1);
    clip->label = phrase.text;
    return clip;
  }
  void close() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    open_cv_.notify_all();
  }
  void wait_started(int n) {
    std::unique_lock lock(mutex_);
    started_cv_.wait(lock, [&] { return started_ >= n; });
  }

  std::atomic<int> calls{0};
  struct {
    std::mutex m;
    std::set<std::thread::id> ids;
    void insert_thread(std::thread::id id) {
      std::lock_guard lock(m);
      ids.insert(id);
    }
  } threads_seen;

 private:
  std::mutex mutex_;
  std::condition_variable open_cv_, started_cv_;
  bool open_ = true;
  int started_ = 0;
};

Phrase phrase(std::string text, int rate = 8000) { return {std::move(text), {"en-us", 165}, rate}; }

ClipPtr fetch_and_wait(PhraseCache& cache, const Phrase& p) {
  std::promise<ClipPtr> got;
  cache.fetch(p, [&](ClipPtr c) { got.set_value(std::move(c)); });
  return got.get_future().get();
}

TEST(PhraseCache, SamePointerEveryTime) {
  auto synth = std::make_shared<FakeSynthesizer>();
  PhraseCache cache(synth);
  EXPECT_EQ(cache.cached(phrase("hello")), nullptr);
  ClipPtr first = fetch_and_wait(cache, phrase("hello"));
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(cache.cached(phrase("hello")), first);
  EXPECT_EQ(cache.cached(phrase("hello")), first);
  EXPECT_EQ(fetch_and_wait(cache, phrase("hello")), first);
  EXPECT_EQ(cache.prepare(phrase("hello")), first);
  EXPECT_EQ(synth->calls.load(), 1);
  const auto s = cache.stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.synthesized, 1u);
  EXPECT_GE(s.hits, 3u);
}

TEST(PhraseCache, KeyIncludesVoiceRateAndSampleRate) {
  auto synth = std::make_shared<FakeSynthesizer>();
  PhraseCache cache(synth);
  ClipPtr base = cache.prepare(phrase("menu"));
  ClipPtr wide = cache.prepare(phrase("menu", 16000));
  ClipPtr pt = cache.prepare({"menu", {"pt-br", 165}, 8000});
  ClipPtr fast = cache.prepare({"menu", {"en-us", 200}, 8000});
  EXPECT_EQ(synth->calls.load(), 4);
  EXPECT_NE(base, wide);
  EXPECT_NE(base, pt);
  EXPECT_NE(base, fast);
  EXPECT_EQ(wide->sample_rate, 16000);
}

TEST(PhraseCache, CallbackRunsOnWorkerNotCaller) {
  PhraseCache cache(std::make_shared<FakeSynthesizer>());
  std::promise<std::thread::id> where;
  cache.fetch(phrase("x"), [&](ClipPtr) { where.set_value(std::this_thread::get_id()); });
  EXPECT_NE(where.get_future().get(), std::this_thread::get_id());
}

TEST(PhraseCache, ConcurrentFetchesOfOnePhraseSynthesiseOnce) {
  auto synth = std::make_shared<FakeSynthesizer>();
  PhraseCache cache(synth);
  synth->close();
  std::vector<std::promise<ClipPtr>> got(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      cache.fetch(phrase("press one"), [&, i](ClipPtr c) { got[i].set_value(std::move(c)); });
    });
  }
  for (auto& t : threads) t.join();
  synth->open();
  std::set<ClipPtr> distinct;
  for (auto& g : got) distinct.insert(g.get_future().get());
  EXPECT_EQ(distinct.size(), 1u);
  EXPECT_NE(*distinct.begin(), nullptr);
  EXPECT_EQ(synth->calls.load(), 1);
}

TEST(PhraseCache, ConcurrentFetchesOfManyPhrases) {
  auto synth = std::make_shared<FakeSynthesizer>();
  PhraseCache cache(synth);
  std::vector<std::thread> threads;
  std::vector<std::vector<ClipPtr>> results(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        ClipPtr c = fetch_and_wait(cache, phrase("phrase " + std::to_string(i)));
        if (cache.cached(phrase("phrase " + std::to_string(i))) != c) c = nullptr;
        results[t].push_back(c);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 20; ++i) {
    for (int t = 0; t < 8; ++t) {
      ASSERT_NE(results[t][i], nullptr);
      EXPECT_EQ(results[t][i], results[0][i]);
    }
  }
  EXPECT_EQ(synth->calls.load(), 20);
  EXPECT_EQ(cache.stats().entries, 20u);
}

TEST(PhraseCache, FullQueueRejectsAndCounts) {
  auto synth = std::make_shared<FakeSynthesizer>();
  PhraseCacheOptions options;
  options.max_queued = 2;
  PhraseCache cache(synth, options);
  synth->close();
  std::promise<ClipPtr> a, b;
  cache.fetch(phrase("a"), [&](ClipPtr c) { a.set_value(c); });
  synth->wait_started(1);  // "a" is on the worker, still counted until answered
  cache.fetch(phrase("b"), [&](ClipPtr c) { b.set_value(c); });
  bool rejected_inline = false;
  std::thread::id rejected_on;
  cache.fetch(phrase("c"), [&](ClipPtr c) {
    rejected_inline = (c == nullptr);
    rejected_on = std::this_thread::get_id();
  });
  EXPECT_TRUE(rejected_inline);
  EXPECT_EQ(rejected_on, std::this_thread::get_id());
  EXPECT_EQ(cache.stats().rejected, 1u);
  synth->open();
  EXPECT_NE(a.get_future().get(), nullptr);
  EXPECT_NE(b.get_future().get(), nullptr);
  // Room again once answered.
  EXPECT_NE(fetch_and_wait(cache, phrase("c")), nullptr);
}

TEST(PhraseCache, PinnedSurviveEvictionLruGoesFirst) {
  auto synth = std::make_shared<FakeSynthesizer>();
  PhraseCacheOptions options;
  // Each phrase below is 5 chars -> 500 samples -> 1000 bytes + 5 bytes of key.
  options.max_bytes = 3100;
  PhraseCache cache(synth, options);
  ClipPtr pinned = cache.prepare(phrase("pin00"));
  ClipPtr one = fetch_and_wait(cache, phrase("one00"));
  ClipPtr two = fetch_and_wait(cache, phrase("two00"));
  EXPECT_EQ(cache.stats().evictions, 0u);
  EXPECT_EQ(cache.cached(phrase("one00")), one);  // "two00" is now least recently used
  fetch_and_wait(cache, phrase("three"));
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_EQ(cache.cached(phrase("two00")), nullptr);
  EXPECT_EQ(cache.cached(phrase("one00")), one);
  EXPECT_EQ(cache.cached(phrase("pin00")), pinned);
  // A flood of new phrases never pushes the pinned one out.
  for (int i = 0; i < 10; ++i) fetch_and_wait(cache, phrase("new" + std::to_string(i) + "x"));
  EXPECT_EQ(cache.cached(phrase("pin00")), pinned);
  EXPECT_LE(cache.stats().bytes, options.max_bytes);
  EXPECT_EQ(cache.stats().pinned_bytes, 1005u);
  // Once unpinned it is evictable like any other.
  cache.unpin(phrase("pin00"));
  EXPECT_EQ(cache.stats().pinned_bytes, 0u);
  for (int i = 0; i < 10; ++i) fetch_and_wait(cache, phrase("mor" + std::to_string(i) + "x"));
  EXPECT_EQ(cache.cached(phrase("pin00")), nullptr);
}

TEST(PhraseCache, FailuresAreReportedAndNotCached) {
  auto synth = std::make_shared<FakeSynthesizer>();
  PhraseCache cache(synth);
  EXPECT_EQ(fetch_and_wait(cache, phrase("fail")), nullptr);
  EXPECT_EQ(fetch_and_wait(cache, phrase("throw")), nullptr);
  EXPECT_EQ(cache.prepare(phrase("fail")), nullptr);
  EXPECT_EQ(cache.cached(phrase("fail")), nullptr);
  EXPECT_EQ(cache.stats().failures, 3u);
  // The worker survived the throw, and a throwing callback.
  cache.fetch(phrase("ok"), [](ClipPtr) { throw std::runtime_error("callback bug"); });
  EXPECT_NE(fetch_and_wait(cache, phrase("ok")), nullptr);
}

TEST(PhraseCache, ShutdownAnswersQueuedRequests) {
  auto synth = std::make_shared<FakeSynthesizer>();
  std::atomic<int> answered{0}, null_answers{0};
  PhraseCache cache(synth);
  synth->close();
  for (int i = 0; i < 5; ++i) {
    cache.fetch(phrase("q" + std::to_string(i)), [&](ClipPtr c) {
      ++answered;
      if (!c) ++null_answers;
    });
  }
  synth->wait_started(1);  // "q0" is being synthesised, q1..q4 wait in the queue
  std::thread stopper([&] { cache.shutdown(); });
  while (cache.accepting()) std::this_thread::yield();
  synth->open();  // let "q0" finish; shutdown() must answer the rest without synthesising
  stopper.join();
  EXPECT_EQ(answered.load(), 5);
  EXPECT_EQ(null_answers.load(), 4);
  EXPECT_EQ(synth->calls.load(), 1);
  // After shutdown, fetch answers nullptr at once and counts it; shutdown is idempotent.
  bool got_null = false;
  cache.fetch(phrase("late"), [&](ClipPtr c) { got_null = (c == nullptr); });
  EXPECT_TRUE(got_null);
  EXPECT_EQ(cache.stats().rejected, 1u);
  cache.shutdown();
}

TEST(PhraseCache, RealEspeakConcurrentFetches) {
  PhraseCache cache(std::make_shared<EspeakSynthesizer>());
  const Phrase p{"press one for sales", {"en-us", 165}, 8000};
  std::vector<std::promise<ClipPtr>> got(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { cache.fetch(p, [&, i](ClipPtr c) { got[i].set_value(c); }); });
  }
  for (auto& t : threads) t.join();
  ClipPtr first = got[0].get_future().get();
  ASSERT_NE(first, nullptr);
  for (int i = 1; i < 8; ++i) EXPECT_EQ(got[i].get_future().get(), first);
  EXPECT_EQ(cache.cached(p), first);
  EXPECT_EQ(cache.stats().synthesized, 1u);
}

}  // namespace
}  // namespace atende::speech
