// The phrase cache: what flows use to get speech. Keyed by (text, voice, rate, sample
// rate) in front of one Synthesizer.
//
//  - cached() never waits on synthesis: a shared lock held only for the map lookup
//    (writers hold the exclusive lock only to insert or evict, never while synthesising).
//  - fetch() queues work on a bounded pool of worker threads (one is right for espeak-ng,
//    which is serial anyway). Requests for a phrase already queued or being synthesised
//    join that job instead of synthesising it twice. When the queue is full, done(nullptr)
//    runs at once on the caller's thread and the rejection is counted: the only case in
//    which `done` runs on the caller's thread.
//  - prepare() synthesises on the calling thread, blocking, and pins the phrase: pinned
//    phrases (the fixed prompts of loaded flows) are never evicted.
//  - Unpinned phrases are evicted least-recently-used first when the total PCM held passes
//    max_bytes.
//  - The destructor stops the workers, answers still-queued requests with nullptr (on the
//    worker) and joins.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "speech/synthesizer.h"

namespace atende::speech {

struct PhraseCacheOptions {
  size_t max_bytes = 64u * 1024 * 1024;  // PCM bytes of all cached clips (~70 min at 8 kHz)
  size_t max_queued = 256;               // callbacks waiting for a worker, all jobs together
  int workers = 1;
};

struct PhraseCacheStats {
  uint64_t hits = 0;         // cached() and fetch() answered from the cache
  uint64_t misses = 0;       // cached() found nothing
  uint64_t synthesized = 0;  // Synthesizer::synthesize() calls that returned a clip
  uint64_t failures = 0;     // ... that returned nullptr or threw
  uint64_t rejected = 0;     // fetch() refused: queue full or shutting down
  uint64_t evictions = 0;
  size_t entries = 0;
  size_t bytes = 0;
  size_t pinned_bytes = 0;
};

class PhraseCache : public PhraseSource {
 public:
  explicit PhraseCache(std::shared_ptr<Synthesizer> synthesizer, PhraseCacheOptions options = {});
  ~PhraseCache() override;
  PhraseCache(const PhraseCache&) = delete;
  PhraseCache& operator=(const PhraseCache&) = delete;

  ClipPtr cached(const Phrase& phrase) override;
  void fetch(const Phrase& phrase, ClipCallback done) override;
  ClipPtr prepare(const Phrase& phrase) override;

  // Makes a prepared phrase evictable again (a flow was unloaded). No-op if not cached.
  void unpin(const Phrase& phrase);
  // Stops accepting fetches, answers queued ones with nullptr, waits for the phrase being
  // synthesised and joins the workers. Idempotent; the destructor calls it. Must not be
  // called from a `done` callback (a worker cannot join itself).
  void shutdown();
  // False once shutdown() has begun.
  bool accepting() const;
  PhraseCacheStats stats() const;

 private:
  struct Key {
    std::string text;
    std::string voice;
    int rate_wpm;
    int sample_rate;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    ClipPtr clip;
    size_t bytes = 0;
    bool pinned = false;
    // Last use, bumped under the shared lock by readers, hence atomic.
    std::atomic<uint64_t> last_used{0};
  };
  struct Job {
    Phrase phrase;
    std::vector<ClipCallback> waiters;
  };

  static Key key_of(const Phrase& phrase);
  ClipPtr lookup(const Key& key);
  ClipPtr synthesize(const Phrase& phrase);
  // Inserts (or pins an existing entry) and evicts down to the budget. Returns the clip
  // now cached for the key (an earlier one if another thread got there first).
  ClipPtr insert(const Key& key, ClipPtr clip, bool pin);
  void evict_locked();
  void worker_loop();

  std::shared_ptr<Synthesizer> synthesizer_;
  const PhraseCacheOptions options_;

  mutable std::shared_mutex cache_mutex_;
  std::unordered_map<Key, std::unique_ptr<Entry>, KeyHash> entries_;
  size_t bytes_ = 0;
  size_t pinned_bytes_ = 0;
  std::atomic<uint64_t> clock_{0};

  mutable std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<Job>> queue_;
  // Jobs queued or being synthesised, by key, so later fetches of the same phrase join them.
  std::unordered_map<Key, Job*, KeyHash> in_flight_;
  size_t queued_callbacks_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::once_flag joined_;

  std::atomic<uint64_t> hits_{0}, misses_{0}, synthesized_{0}, failures_{0}, rejected_{0},
      evictions_{0};
};

}  // namespace atende::speech
