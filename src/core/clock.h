// Monotonic time for the media path. Never the wall clock: pacing must not jump.
#pragma once
#include <chrono>

namespace atende {

using MonoClock = std::chrono::steady_clock;
using MonoTime = MonoClock::time_point;
using Millis = std::chrono::milliseconds;

}  // namespace atende
