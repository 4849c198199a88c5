#include "core/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace atende {

uint64_t Counter::value() const {
  uint64_t total = 0;
  for (const auto& s : slots_) total += s.value.load(std::memory_order_relaxed);
  return total;
}

void Gauge::set(int64_t v) {
  const unsigned mine = metric_shard_index();
  for (unsigned i = 0; i < kMetricShards; ++i) {
    if (i != mine) slots_[i].value.store(0, std::memory_order_relaxed);
  }
  slots_[mine].value.store(v, std::memory_order_relaxed);
}

int64_t Gauge::value() const {
  int64_t total = 0;
  for (const auto& s : slots_) total += s.value.load(std::memory_order_relaxed);
  return total;
}

namespace {
constexpr size_t kPerLine = kCacheLine / sizeof(uint64_t);
}

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
    throw std::invalid_argument("histogram bounds must be strictly increasing");
  }
  for (double b : bounds_) {
    if (!std::isfinite(b)) throw std::invalid_argument("histogram bounds must be finite");
  }
  lines_per_shard_ = (bounds_.size() + 1 + kPerLine - 1) / kPerLine;
  lines_.reset(new Line[lines_per_shard_ * kMetricShards]());
}

std::atomic<uint64_t>& Histogram::bucket(unsigned shard, size_t i) const {
  Line& line = lines_[shard * lines_per_shard_ + i / kPerLine];
  return line.v[i % kPerLine];
}

void Histogram::observe(double v) {
  // NaN lands in +Inf (every comparison is false), so it is counted, not lost.
  size_t i = 0;
  while (i < bounds_.size() && !(v <= bounds_[i])) ++i;
  const unsigned shard = metric_shard_index();
  bucket(shard, i).fetch_add(1, std::memory_order_relaxed);
  if (std::isfinite(v)) sums_[shard].sum.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snap;
  snap.cumulative.assign(bounds_.size() + 1, 0);
  for (unsigned s = 0; s < kMetricShards; ++s) {
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      snap.cumulative[i] += bucket(s, i).load(std::memory_order_relaxed);
    }
    snap.sum += sums_[s].sum.load(std::memory_order_relaxed);
  }
  for (size_t i = 1; i < snap.cumulative.size(); ++i) snap.cumulative[i] += snap.cumulative[i - 1];
  return snap;
}

std::vector<double> default_seconds_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.5, 5, 10};
}

std::vector<double> frame_to_flow_buckets() {
  return {0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03,
          0.04,   0.05,  0.06,  0.07,  0.08,  0.1,    0.12, 0.15,  0.2,  0.3,   0.5};
}

// ---- registry ----------------------------------------------------------------------

namespace {

enum MetricType { kCounter = 0, kGauge = 1, kHistogram = 2 };
const char* type_name(int t) {
  switch (t) {
    case kCounter:
      return "counter";
    case kGauge:
      return "gauge";
    default:
      return "histogram";
  }
}

bool valid_name(std::string_view s, bool allow_colon) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (digit && i > 0))) return false;
  }
  return true;
}

void validate_labels(const MetricLabels& labels, bool histogram) {
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string& n = labels[i].first;
    if (!valid_name(n, false) || n.starts_with("__")) {
      throw std::invalid_argument("invalid metric label name: " + n);
    }
    if (histogram && n == "le") throw std::invalid_argument("histogram label 'le' is reserved");
    for (size_t j = 0; j < i; ++j) {
      if (labels[j].first == n) throw std::invalid_argument("duplicate metric label: " + n);
    }
  }
}

void append_labels(std::string& out, const MetricLabels& labels, std::string_view le = {}) {
  if (labels.empty() && le.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += prometheus_escape_label_value(v);
    out += '"';
  }
  if (!le.empty()) {
    if (!first) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

}  // namespace

struct MetricsRegistry::Family {
  std::string name;
  std::string help;
  int type;
  struct Entry {
    MetricLabels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  std::vector<Entry> entries;

  Entry* find(const MetricLabels& labels) {
    for (auto& e : entries) {
      if (e.labels == labels) return &e;
    }
    return nullptr;
  }
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Family& MetricsRegistry::family(std::string_view name, std::string_view help,
                                                 int type) {
  if (!valid_name(name, true)) {
    throw std::invalid_argument("invalid metric name: " + std::string(name));
  }
  for (auto& f : families_) {
    if (f->name != name) continue;
    if (f->type != type) {
      throw std::invalid_argument("metric " + std::string(name) + " already registered as " +
                                  type_name(f->type));
    }
    return *f;
  }
  auto f = std::make_unique<Family>();
  f->name = name;
  f->help = help;
  f->type = type;
  families_.push_back(std::move(f));
  return *families_.back();
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                  MetricLabels labels) {
  validate_labels(labels, false);
  std::lock_guard lock(mutex_);
  Family& f = family(name, help, kCounter);
  if (auto* e = f.find(labels)) return *e->counter;
  f.entries.push_back({std::move(labels), std::make_unique<Counter>(), nullptr, nullptr});
  return *f.entries.back().counter;
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, MetricLabels labels) {
  validate_labels(labels, false);
  std::lock_guard lock(mutex_);
  Family& f = family(name, help, kGauge);
  if (auto* e = f.find(labels)) return *e->gauge;
  f.entries.push_back({std::move(labels), nullptr, std::make_unique<Gauge>(), nullptr});
  return *f.entries.back().gauge;
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                      std::vector<double> bounds, MetricLabels labels) {
  validate_labels(labels, true);
  auto h = std::make_unique<Histogram>(std::move(bounds));  // validates bounds
  std::lock_guard lock(mutex_);
  Family& f = family(name, help, kHistogram);
  if (auto* e = f.find(labels)) {
    if (e->histogram->upper_bounds() != h->upper_bounds()) {
      throw std::invalid_argument("histogram " + std::string(name) +
                                  " re-registered with other buckets");
    }
    return *e->histogram;
  }
  f.entries.push_back({std::move(labels), nullptr, nullptr, std::move(h)});
  return *f.entries.back().histogram;
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  out.reserve(families_.size() * 128);
  for (const auto& f : families_) {
    out += "# HELP " + f->name + ' ' + prometheus_escape_help(f->help) + '\n';
    out += "# TYPE " + f->name + ' ' + type_name(f->type) + '\n';
    for (const auto& e : f->entries) {
      if (e.counter || e.gauge) {
        out += f->name;
        append_labels(out, e.labels);
        out += ' ';
        out += e.counter ? std::to_string(e.counter->value()) : std::to_string(e.gauge->value());
        out += '\n';
        continue;
      }
      const Histogram::Snapshot snap = e.histogram->snapshot();
      const auto& bounds = e.histogram->upper_bounds();
      for (size_t i = 0; i <= bounds.size(); ++i) {
        out += f->name + "_bucket";
        append_labels(out, e.labels,
                      i < bounds.size() ? prometheus_format_double(bounds[i]) : "+Inf");
        out += ' ' + std::to_string(snap.cumulative[i]) + '\n';
      }
      out += f->name + "_sum";
      append_labels(out, e.labels);
      out += ' ' + prometheus_format_double(snap.sum) + '\n';
      out += f->name + "_count";
      append_labels(out, e.labels);
      out += ' ' + std::to_string(snap.count()) + '\n';
    }
  }
  return out;
}

MetricsRegistry& global_metrics() {
  // Leaked on purpose: threads may still increment during static destruction at exit.
  static MetricsRegistry* registry = new MetricsRegistry();
  return *registry;
}

CoreMetrics register_core_metrics(MetricsRegistry& r) {
  const char* calls_help = "Finished calls by result.";
  const char* packets_help = "RTP packets received (in) and sent (out).";
  const char* bytes_help = "RTP payload bytes received (in) and sent (out).";
  const char* rejected_help =
      "RTP and RTCP packets dropped because they did not come from the call's peer (address) "
      "or were another stream from it (ssrc).";
  const char* srtp_help =
      "SRTP/SRTCP packets dropped: failed authentication (auth) or seen before (replay).";
  return CoreMetrics{
      .active_calls = r.gauge("atende_active_calls", "Calls currently up."),
      .calls_answered = r.counter("atende_calls_total", calls_help, {{"result", "answered"}}),
      .calls_rejected = r.counter("atende_calls_total", calls_help, {{"result", "rejected"}}),
      .calls_failed = r.counter("atende_calls_total", calls_help, {{"result", "failed"}}),
      .calls_abandoned = r.counter("atende_calls_total", calls_help, {{"result", "abandoned"}}),
      .rtp_packets_in = r.counter("atende_rtp_packets_total", packets_help, {{"direction", "in"}}),
      .rtp_packets_out =
          r.counter("atende_rtp_packets_total", packets_help, {{"direction", "out"}}),
      .rtp_bytes_in = r.counter("atende_rtp_bytes_total", bytes_help, {{"direction", "in"}}),
      .rtp_bytes_out = r.counter("atende_rtp_bytes_total", bytes_help, {{"direction", "out"}}),
      .rtp_late_packets = r.counter("atende_rtp_late_packets_total",
                                    "RTP packets that arrived too late to be played."),
      .rtp_lost_packets =
          r.counter("atende_rtp_lost_packets_total", "RTP packets never received (sequence gaps)."),
      .rtp_rejected_address =
          r.counter("atende_rtp_rejected_packets_total", rejected_help, {{"reason", "address"}}),
      .rtp_rejected_ssrc =
          r.counter("atende_rtp_rejected_packets_total", rejected_help, {{"reason", "ssrc"}}),
      .rtp_jitter_seconds =
          r.histogram("atende_rtp_jitter_seconds", "RFC 3550 interarrival jitter, sampled per leg.",
                      default_seconds_buckets()),
      .rtp_read_wait_seconds = r.histogram(
          "atende_rtp_read_wait_seconds",
          "How long an RTP packet waited in its socket before its leg's tick read it (kernel "
          "receive timestamp to read).",
          {0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.015, 0.02, 0.04, 0.1}),
      .rtp_frame_to_flow_seconds = r.histogram(kFrameToFlowName, kFrameToFlowHelp,
                                               frame_to_flow_buckets(), {{"leg", "rtp"}}),
      .media_phase_moves =
          r.counter("atende_media_phase_moves_total",
                    "Legs moved within the 20 ms period to read their packets soon after arrival."),
      .store_dropped_writes = r.counter("atende_store_dropped_writes_total",
                                        "Call-store writes dropped (queue full or DB error)."),
      .media_tick_lateness_seconds =
          r.histogram("atende_media_tick_lateness_seconds",
                      "How late a media worker woke for a 20 ms tick slot (pacing health).",
                      {0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2}),
      .media_tick_work_seconds = r.histogram(
          "atende_media_tick_work_seconds", "Time a media worker spent on one tick slot.",
          {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01}),
      .srtp_auth_failed = r.counter("atende_srtp_dropped_total", srtp_help, {{"reason", "auth"}}),
      .srtp_replayed = r.counter("atende_srtp_dropped_total", srtp_help, {{"reason", "replay"}}),
  };
}

// ---- text helpers ------------------------------------------------------------------

namespace {
// The exposition format escapes backslash and newline everywhere, and '"' in label values.
std::string prometheus_escape(std::string_view s, bool quote) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}
}  // namespace

std::string prometheus_escape_help(std::string_view s) { return prometheus_escape(s, false); }

std::string prometheus_escape_label_value(std::string_view s) { return prometheus_escape(s, true); }

std::string prometheus_format_double(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return std::string(buf, end);
}

}  // namespace atende
