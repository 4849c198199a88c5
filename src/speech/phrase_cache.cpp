#include "speech/phrase_cache.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <functional>
#include <limits>

namespace atende::speech {
namespace {

void run_callback(const ClipCallback& done, ClipPtr clip) {
  if (!done) return;
  // A throwing callback must not take the worker (and every later request) down with it.
  try {
    done(std::move(clip));
  } catch (const std::exception& e) {
    spdlog::error("phrase cache: callback threw: {}", e.what());
  } catch (...) {
    spdlog::error("phrase cache: callback threw");
  }
}

}  // namespace

size_t PhraseCache::KeyHash::operator()(const Key& k) const {
  size_t h = std::hash<std::string>{}(k.text);
  auto mix = [&h](size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
  mix(std::hash<std::string>{}(k.voice));
  mix(std::hash<int>{}(k.rate_wpm));
  mix(std::hash<int>{}(k.sample_rate));
  return h;
}

PhraseCache::PhraseCache(std::shared_ptr<Synthesizer> synthesizer, PhraseCacheOptions options)
    : synthesizer_(std::move(synthesizer)), options_(options) {
  const int count = std::max(1, options_.workers);
  workers_.reserve(count);
  for (int i = 0; i < count; ++i) workers_.emplace_back([this] { worker_loop(); });
}

PhraseCache::~PhraseCache() { shutdown(); }

void PhraseCache::shutdown() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  std::call_once(joined_, [this] {
    for (auto& t : workers_) t.join();
  });
}

bool PhraseCache::accepting() const {
  std::lock_guard lock(queue_mutex_);
  return !stopping_;
}

PhraseCache::Key PhraseCache::key_of(const Phrase& p) {
  return {p.text, p.voice.name, p.voice.rate_wpm, p.sample_rate};
}

ClipPtr PhraseCache::lookup(const Key& key) {
  std::shared_lock lock(cache_mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  it->second->last_used.store(++clock_, std::memory_order_relaxed);
  return it->second->clip;
}

ClipPtr PhraseCache::cached(const Phrase& phrase) {
  ClipPtr clip = lookup(key_of(phrase));
  (clip ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  return clip;
}

void PhraseCache::fetch(const Phrase& phrase, ClipCallback done) {
  {
    std::lock_guard lock(queue_mutex_);
    if (!stopping_ && queued_callbacks_ < options_.max_queued) {
      Key key = key_of(phrase);
      if (auto it = in_flight_.find(key); it != in_flight_.end()) {
        it->second->waiters.push_back(std::move(done));
      } else {
        auto job = std::make_unique<Job>();
        job->phrase = phrase;
        job->waiters.push_back(std::move(done));
        in_flight_.emplace(std::move(key), job.get());
        queue_.push_back(std::move(job));
      }
      ++queued_callbacks_;
      queue_cv_.notify_one();
      return;
    }
  }
  rejected_.fetch_add(1, std::memory_order_relaxed);
  run_callback(done, nullptr);
}

ClipPtr PhraseCache::prepare(const Phrase& phrase) {
  const Key key = key_of(phrase);
  if (ClipPtr clip = lookup(key)) {
    hits_.fetch_add(1, std::memory_order_relaxed);
    return insert(key, std::move(clip), /*pin=*/true);
  }
  ClipPtr clip = synthesize(phrase);
  if (!clip) return nullptr;
  return insert(key, std::move(clip), /*pin=*/true);
}

void PhraseCache::unpin(const Phrase& phrase) {
  std::unique_lock lock(cache_mutex_);
  auto it = entries_.find(key_of(phrase));
  if (it == entries_.end() || !it->second->pinned) return;
  it->second->pinned = false;
  pinned_bytes_ -= it->second->bytes;
  evict_locked();
}

ClipPtr PhraseCache::synthesize(const Phrase& phrase) {
  ClipPtr clip;
  try {
    clip = synthesizer_->synthesize(phrase);
  } catch (const std::exception& e) {
    spdlog::error("phrase cache: synthesizer threw for '{}': {}", phrase.text, e.what());
  }
  (clip ? synthesized_ : failures_).fetch_add(1, std::memory_order_relaxed);
  return clip;
}

ClipPtr PhraseCache::insert(const Key& key, ClipPtr clip, bool pin) {
  std::unique_lock lock(cache_mutex_);
  auto [it, fresh] = entries_.try_emplace(key, nullptr);
  if (fresh) {
    it->second = std::make_unique<Entry>();
    it->second->clip = clip;
    it->second->bytes = clip->pcm.size() * sizeof(int16_t) + key.text.size();
    bytes_ += it->second->bytes;
  }
  Entry& entry = *it->second;
  entry.last_used.store(++clock_, std::memory_order_relaxed);
  if (pin && !entry.pinned) {
    entry.pinned = true;
    pinned_bytes_ += entry.bytes;
  }
  ClipPtr result = entry.clip;  // `entry` may be evicted just below
  evict_locked();
  return result;
}

void PhraseCache::evict_locked() {
  // A linear scan per eviction: evictions are rare and the cache holds hundreds of
  // phrases, not millions; no per-lookup list splicing is needed this way.
  while (bytes_ > options_.max_bytes) {
    auto victim = entries_.end();
    uint64_t oldest = std::numeric_limits<uint64_t>::max();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      const uint64_t used = it->second->last_used.load(std::memory_order_relaxed);
      if (!it->second->pinned && used < oldest) {
        oldest = used;
        victim = it;
      }
    }
    if (victim == entries_.end()) return;  // only pinned phrases left
    bytes_ -= victim->second->bytes;
    entries_.erase(victim);
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
}

void PhraseCache::worker_loop() {
  for (;;) {
    std::unique_ptr<Job> job;
    bool stopping;
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
      // When stopping, what is still queued is answered with nullptr, not synthesised.
      stopping = stopping_;
    }
    ClipPtr clip;
    if (!stopping) {
      const Key key = key_of(job->phrase);
      clip = lookup(key);
      if (clip) {
        hits_.fetch_add(1, std::memory_order_relaxed);
      } else if ((clip = synthesize(job->phrase))) {
        clip = insert(key, std::move(clip), /*pin=*/false);
      }
    }
    // Fetches that arrived while we synthesised joined job->waiters; take them all.
    std::vector<ClipCallback> waiters;
    {
      std::lock_guard lock(queue_mutex_);
      in_flight_.erase(key_of(job->phrase));
      waiters = std::move(job->waiters);
      queued_callbacks_ -= waiters.size();
    }
    for (const auto& done : waiters) run_callback(done, clip);
  }
}

PhraseCacheStats PhraseCache::stats() const {
  PhraseCacheStats s;
  s.hits = hits_.load();
  s.misses = misses_.load();
  s.synthesized = synthesized_.load();
  s.failures = failures_.load();
  s.rejected = rejected_.load();
  s.evictions = evictions_.load();
  std::shared_lock lock(cache_mutex_);
  s.entries = entries_.size();
  s.bytes = bytes_;
  s.pinned_bytes = pinned_bytes_;
  return s;
}

}  // namespace atende::speech
