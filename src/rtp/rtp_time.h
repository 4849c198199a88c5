// Monotonic time expressed in RTP clock units (wrapping 32-bit), for jitter estimates that
// compare arrival times with RTP timestamps (RFC 3550 A.8).
#pragma once
#include <chrono>
#include <cstdint>

#include "core/clock.h"

namespace atende::rtp {

inline uint32_t to_rtp_units(MonoTime t, uint32_t clock_rate) {
  // Split seconds and nanoseconds so the multiplication cannot overflow 64 bits.
  const int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  const uint64_t secs = static_cast<uint64_t>(ns / 1'000'000'000);
  const uint64_t rem = static_cast<uint64_t>(ns % 1'000'000'000);
  return static_cast<uint32_t>(secs * clock_rate + rem * clock_rate / 1'000'000'000);
}

}  // namespace atende::rtp
