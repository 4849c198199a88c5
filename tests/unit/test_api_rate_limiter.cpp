// Token buckets on a fake monotonic clock: burst, refill, Retry-After, and bounded memory
// per client address. No sleeps.
#include <gtest/gtest.h>

#include "api/rate_limiter.h"

namespace atende::api {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const MonoTime t0{seconds(1000)};

TEST(TokenBucket, BurstThenRefusedWithRetryAfter) {
  TokenBucket b(60, 3, t0);  // one per second, three at once
  int retry = 0;
  EXPECT_TRUE(b.take(t0, retry));
  EXPECT_TRUE(b.take(t0, retry));
  EXPECT_TRUE(b.take(t0, retry));
  EXPECT_FALSE(b.take(t0, retry));
  EXPECT_EQ(retry, 1);
  EXPECT_FALSE(b.take(t0 + milliseconds(999), retry));
  EXPECT_EQ(retry, 1);  // never 0
  EXPECT_TRUE(b.take(t0 + seconds(1), retry));
  EXPECT_FALSE(b.take(t0 + seconds(1), retry));
}

TEST(TokenBucket, RetryAfterIsWholeSecondsUntilOneToken) {
  TokenBucket b(6, 1, t0);  // one per ten seconds
  int retry = 0;
  EXPECT_TRUE(b.take(t0, retry));
  EXPECT_FALSE(b.take(t0, retry));
  EXPECT_EQ(retry, 10);
  EXPECT_FALSE(b.take(t0 + milliseconds(2500), retry));
  EXPECT_EQ(retry, 8);  // 7.5 s rounded up
  EXPECT_TRUE(b.take(t0 + seconds(10), retry));
}

TEST(TokenBucket, RefillStopsAtBurstAndBackwardClockMintsNothing) {
  TokenBucket b(60, 2, t0);
  int retry = 0;
  EXPECT_TRUE(b.full(t0 + seconds(3600)));
  const MonoTime later = t0 + seconds(3600);
  EXPECT_TRUE(b.take(later, retry));
  EXPECT_TRUE(b.take(later, retry));
  EXPECT_FALSE(b.take(later, retry));
  EXPECT_FALSE(b.take(t0, retry));  // earlier than the last look
  EXPECT_FALSE(b.full(later));
}

TEST(TokenBucket, AvailableDoesNotConsume) {
  TokenBucket b(60, 1, t0);
  int retry = 0;
  EXPECT_TRUE(b.available(t0, retry));
  EXPECT_TRUE(b.available(t0, retry));
  EXPECT_TRUE(b.take(t0, retry));
  EXPECT_FALSE(b.available(t0, retry));
  EXPECT_EQ(retry, 1);
}

TEST(KeyedRateLimiter, KeysAreIndependent) {
  KeyedRateLimiter l(20, 2);
  int retry = 0;
  EXPECT_TRUE(l.take("10.0.0.1", t0, retry));
  EXPECT_TRUE(l.take("10.0.0.1", t0, retry));
  EXPECT_FALSE(l.take("10.0.0.1", t0, retry));
  EXPECT_EQ(retry, 3);  // 20 per minute: one every 3 s
  EXPECT_FALSE(l.available("10.0.0.1", t0, retry));
  EXPECT_TRUE(l.available("10.0.0.2", t0, retry));
  EXPECT_TRUE(l.take("10.0.0.2", t0, retry));
  EXPECT_EQ(l.size(), 2u);
}

TEST(KeyedRateLimiter, MemoryIsBoundedUnderAFloodOfAddresses) {
  KeyedRateLimiter l(60, 1, /*max_keys=*/8);
  int retry = 0;
  for (int i = 0; i < 1000; ++i) l.take("10.0.0." + std::to_string(i), t0, retry);
  EXPECT_LE(l.size(), 9u);  // 8 plus the shared overflow bucket
  // Newcomers share the overflow bucket, already spent: refused too.
  EXPECT_FALSE(l.take("192.168.1.1", t0, retry));
  // Once the old buckets have refilled they are forgotten and newcomers get their own.
  EXPECT_TRUE(l.take("192.168.1.1", t0 + seconds(60), retry));
  EXPECT_LE(l.size(), 9u);
}

}  // namespace
}  // namespace atende::api
