#include "api/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace atende::api {

namespace {
constexpr const char* kOverflowKey = "\x01overflow";  // cannot be an IP address
}

TokenBucket::TokenBucket(int per_minute, int burst, MonoTime now)
    : per_second_(std::max(per_minute, 1) / 60.0),
      capacity_(std::max(burst, 1)),
      tokens_(capacity_),
      last_(now) {}

void TokenBucket::refill(MonoTime now) {
  // A clock that goes backwards (it should not: monotonic) must not mint tokens.
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(capacity_, tokens_ + elapsed * per_second_);
  last_ = now;
}

int TokenBucket::seconds_until_one() const {
  const double missing = 1.0 - tokens_;
  return std::max(1, static_cast<int>(std::ceil(missing / per_second_)));
}

bool TokenBucket::available(MonoTime now, int& retry_after) {
  refill(now);
  if (tokens_ >= 1.0) return true;
  retry_after = seconds_until_one();
  return false;
}

bool TokenBucket::take(MonoTime now, int& retry_after) {
  if (!available(now, retry_after)) return false;
  tokens_ -= 1.0;
  return true;
}

bool TokenBucket::full(MonoTime now) const {
  const double elapsed = now > last_ ? std::chrono::duration<double>(now - last_).count() : 0.0;
  return tokens_ + elapsed * per_second_ >= capacity_;
}

KeyedRateLimiter::KeyedRateLimiter(int per_minute, int burst, size_t max_keys)
    : per_minute_(per_minute), burst_(burst), max_keys_(std::max<size_t>(max_keys, 1)) {}

TokenBucket& KeyedRateLimiter::bucket(const std::string& key, MonoTime now) {
  if (auto it = buckets_.find(key); it != buckets_.end()) return it->second;
  if (buckets_.size() >= max_keys_) {
    std::erase_if(buckets_, [&](auto& kv) { return kv.second.full(now); });
  }
  const std::string k = buckets_.size() >= max_keys_ ? kOverflowKey : key;
  return buckets_.try_emplace(k, per_minute_, burst_, now).first->second;
}

bool KeyedRateLimiter::take(const std::string& key, MonoTime now, int& retry_after) {
  return bucket(key, now).take(now, retry_after);
}

bool KeyedRateLimiter::available(const std::string& key, MonoTime now, int& retry_after) {
  // Only look: a client with no failures so far needs no bucket yet.
  auto it = buckets_.find(key);
  if (it == buckets_.end() && buckets_.size() >= max_keys_) it = buckets_.find(kOverflowKey);
  if (it == buckets_.end()) return true;
  return it->second.available(now, retry_after);
}

}  // namespace atende::api
