// Prometheus-style metrics on Envoy's model: every metric is registered once at start-up
// (which may allocate and lock), and then written from any thread without a lock or an
// allocation. Each metric keeps kMetricShards cache-line-padded slots; a thread always writes
// the slot picked by its own index, so media threads incrementing per packet do not bounce
// one cache line between cores. Reading (rendering /metrics) sums the slots.
//
//   MetricsRegistry& reg = global_metrics();
//   Counter& answered = reg.counter("atende_calls_total", "Calls by result", {{"result",
//   "answered"}}); answered.inc();                       // hot path: one relaxed fetch_add
//   std::string text = reg.render();      // Prometheus text exposition format 0.0.4
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atende {

// Slots per metric. A power of two so the shard pick is a mask; 16 covers our worker counts
// (threads beyond 16 share slots, still correct, just more cache traffic).
constexpr unsigned kMetricShards = 16;
constexpr size_t kCacheLine = 64;

// This thread's slot, fixed at its first metric write. Inline so the hot path is a
// thread-local load, not a call.
inline unsigned metric_shard_index() {
  static std::atomic<unsigned> next_thread{0};
  thread_local const unsigned index =
      next_thread.fetch_add(1, std::memory_order_relaxed) & (kMetricShards - 1);
  return index;
}

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count (packets, calls, dropped writes).
class Counter {
 public:
  void inc(uint64_t n = 1) {
    slots_[metric_shard_index()].value.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value() const;

 private:
  struct alignas(kCacheLine) Slot {
    std::atomic<uint64_t> value{0};
  };
  std::array<Slot, kMetricShards> slots_;
};

// A value that goes up and down (active calls, queue depth). Adds are sharded like a
// counter; set() is for values owned by one writer (it resets the other slots, so mixing
// set() with concurrent add() from other threads loses those adds).
class Gauge {
 public:
  void add(int64_t n) {
    slots_[metric_shard_index()].value.fetch_add(n, std::memory_order_relaxed);
  }
  void inc() { add(1); }
  void dec() { add(-1); }
  void set(int64_t v);
  int64_t value() const;

 private:
  struct alignas(kCacheLine) Slot {
    std::atomic<int64_t> value{0};
  };
  std::array<Slot, kMetricShards> slots_;
};

// Observations in fixed buckets chosen at registration (upper bounds, in seconds for all
// our uses). observe() is a short linear scan over the bounds plus two relaxed atomics.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
  };
  Snapshot snapshot() const;
  const std::vector<double>& upper_bounds() const { return bounds_; }

 private:
  // Bucket counts of all shards in one block of whole cache lines: shard s owns
  // lines [s * lines_per_shard_, (s + 1) * lines_per_shard_), so shards never share a line.
  struct alignas(kCacheLine) Line {
    std::atomic<uint64_t> v[kCacheLine / sizeof(uint64_t)];
  };
  struct alignas(kCacheLine) SumSlot {
    std::atomic<double> sum{0};
  };
  std::atomic<uint64_t>& bucket(unsigned shard, size_t i) const;

  std::vector<double> bounds_;
  size_t lines_per_shard_;
  std::unique_ptr<Line[]> lines_;
  std::array<SumSlot, kMetricShards> sums_;
};

// Default buckets for latencies and jitter in seconds: 1 ms .. 10 s.
std::vector<double> default_seconds_buckets();
// Buckets of atende_media_frame_to_flow_seconds (every leg kind uses the same): 0.5 ms ..
// 0.5 s, fine around one tick (20 ms) and the RTP jitter buffer's 60 ms.
std::vector<double> frame_to_flow_buckets();
inline constexpr const char* kFrameToFlowName = "atende_media_frame_to_flow_seconds";
inline constexpr const char* kFrameToFlowHelp =
    "Per frame heard: from its data's kernel receive timestamp to the frame handed to the "
    "flow or agent (LegListener::on_frame), by leg kind.";

// Owns every metric; render() writes them in registration order, grouped by name.
// Registration of an existing name + label set returns the same metric; a different type
// or an invalid name throws std::invalid_argument. Thread-safe.
class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  Counter& counter(std::string_view name, std::string_view help, MetricLabels labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, MetricLabels labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                       MetricLabels labels = {});

  // Prometheus text exposition format 0.0.4.
  std::string render() const;

 private:
  struct Family;
  Family& family(std::string_view name, std::string_view help, int type);
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family>> families_;
};

// The process-wide registry (created on first use, never destroyed before exit).
MetricsRegistry& global_metrics();

// The metrics the media and signalling side write. Created once at start-up.
struct CoreMetrics {
  Gauge& active_calls;
  Counter& calls_answered;   // atende_calls_total{result="answered"}
  Counter& calls_rejected;   // {result="rejected"}: we refused it (4xx/5xx/6xx sent)
  Counter& calls_failed;     // {result="failed"}: error before or during the call
  Counter& calls_abandoned;  // {result="abandoned"}: caller hung up before answer
  Counter& rtp_packets_in;   // atende_rtp_packets_total{direction="in"}
  Counter& rtp_packets_out;
  Counter& rtp_bytes_in;  // atende_rtp_bytes_total{direction="in"}
  Counter& rtp_bytes_out;
  Counter& rtp_late_packets;
  Counter& rtp_lost_packets;
  // atende_rtp_rejected_packets_total{reason}: RTP/RTCP not taken (media/rtp_source.h)
  Counter& rtp_rejected_address;  // {reason="address"}: not from the call's peer
  Counter& rtp_rejected_ssrc;     // {reason="ssrc"}: the peer's address, another stream
  Histogram& rtp_jitter_seconds;
  Histogram& rtp_read_wait_seconds;
  // atende_media_frame_to_flow_seconds{leg="rtp"}: kernel receive timestamp of a packet to
  // its frame handed to the leg's listener (socket wait + jitter buffer + decode).
  Histogram& rtp_frame_to_flow_seconds;
  Counter& media_phase_moves;  // legs moved to read soon after their packets arrive
  Counter& store_dropped_writes;
  Histogram& media_tick_lateness_seconds;
  Histogram& media_tick_work_seconds;
  Counter& srtp_auth_failed;  // atende_srtp_dropped_total{reason="auth"}
  Counter& srtp_replayed;     // {reason="replay"}
};

CoreMetrics register_core_metrics(MetricsRegistry& registry);

// Text helpers, exposed for tests and other exporters.
std::string prometheus_escape_help(std::string_view s);
std::string prometheus_escape_label_value(std::string_view s);
std::string prometheus_format_double(double v);

}  // namespace atende
