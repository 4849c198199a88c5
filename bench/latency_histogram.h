// The load generators' latency statistics: a microsecond histogram up to 100 ms plus an
// exact maximum, for percentiles without storing samples and with no allocation once
// constructed (it is fed from the media loop). Header-only, nothing of atende linked. Used by
// loadgen_echo.cpp and loadgen_stream.h (loadgen_audiosocket, loadgen_asp).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace atende::bench {

class Histogram {
 public:
  void Add(int64_t ns) {
    if (ns < 0) ns = -ns;
    max_ns_ = std::max(max_ns_, ns);
    size_t bin = static_cast<size_t>(ns / 1000);
    ++bins_[std::min(bin, bins_.size() - 1)];
    ++count_;
  }
  uint64_t count() const { return count_; }
  double MaxMs() const { return static_cast<double>(max_ns_) / 1e6; }
  // Upper edge of the bin holding the q-quantile, in ms (conservative by < 1 us).
  double QuantileMs(double q) const {
    if (count_ == 0) return 0.0;
    uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
    rank = std::max<uint64_t>(rank, 1);
    uint64_t seen = 0;
    for (size_t i = 0; i < bins_.size(); ++i) {
      seen += bins_[i];
      if (seen >= rank) return std::min(static_cast<double>(i + 1) / 1000.0, MaxMs());
    }
    return MaxMs();
  }

 private:
  std::vector<uint64_t> bins_ = std::vector<uint64_t>(100'001, 0);
  uint64_t count_ = 0;
  int64_t max_ns_ = 0;
};

// `, "<name>_p50_ms": x, "<name>_p99_ms": y, "<name>_max_ms": z` on stdout: the generators'
// JSON report fields for one histogram.
inline void PrintQuantilesMs(const char* name, const Histogram& h) {
  std::printf(", \"%s_p50_ms\": %.3f, \"%s_p99_ms\": %.3f, \"%s_max_ms\": %.3f", name,
              h.QuantileMs(0.5), name, h.QuantileMs(0.99), name, h.MaxMs());
}

}  // namespace atende::bench
