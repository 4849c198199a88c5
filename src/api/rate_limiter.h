// Token buckets for the REST API: one per API token (its requests) and one per client
// address (its failed authentications). Time comes from the caller, so tests step a fake
// clock instead of sleeping. Not thread-safe: the owner locks.
#pragma once
#include <chrono>
#include <map>
#include <string>

#include "core/clock.h"

namespace atende::api {

// `burst` requests at once, refilled at `per_minute`. A new bucket starts full.
class TokenBucket {
 public:
  TokenBucket(int per_minute, int burst, MonoTime now);

  // Takes one request's worth. On refusal returns false and sets `retry_after` to the whole
  // seconds (>= 1) until one will be available.
  bool take(MonoTime now, int& retry_after);
  // Would take() succeed? Does not consume.
  bool available(MonoTime now, int& retry_after);
  // True when refilled to the brim: the bucket holds no memory of past requests.
  bool full(MonoTime now) const;

 private:
  void refill(MonoTime now);
  int seconds_until_one() const;

  double per_second_;
  double capacity_;
  double tokens_;
  MonoTime last_;
};

// Buckets keyed by a string (a client address). At most `max_keys` are kept: when a new key
// would exceed that, buckets that have refilled are forgotten, and if none has, the newcomer
// shares one overflow bucket — so a flood of source addresses cannot grow memory.
class KeyedRateLimiter {
 public:
  KeyedRateLimiter(int per_minute, int burst, size_t max_keys = 4096);

  bool take(const std::string& key, MonoTime now, int& retry_after);
  bool available(const std::string& key, MonoTime now, int& retry_after);
  size_t size() const { return buckets_.size(); }

 private:
  TokenBucket& bucket(const std::string& key, MonoTime now);

  int per_minute_;
  int burst_;
  size_t max_keys_;
  std::map<std::string, TokenBucket> buckets_;
};

}  // namespace atende::api
