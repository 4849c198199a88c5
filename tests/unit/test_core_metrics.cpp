#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "core/metrics.h"

namespace atende {
namespace {

TEST(Metrics, RendersExactExpositionFormat) {
  MetricsRegistry reg;
  Counter& answered =
      reg.counter("atende_calls_total", "Finished calls.", {{"result", "answered"}});
  Counter& failed = reg.counter("atende_calls_total", "Finished calls.", {{"result", "failed"}});
  Gauge& active = reg.gauge("atende_active_calls", "Calls up.\nNow \\ here");
  Histogram& h = reg.histogram("atende_x_seconds", "X.", {0.005, 0.5, 1});
  answered.inc(3);
  failed.inc();
  active.inc();
  active.inc();
  active.dec();
  h.observe(0.001);
  h.observe(0.25);
  h.observe(0.25);
  h.observe(7);

  const std::string expected =
      "# HELP atende_calls_total Finished calls.\n"
      "# TYPE atende_calls_total counter\n"
      "atende_calls_total{result=\"answered\"} 3\n"
      "atende_calls_total{result=\"failed\"} 1\n"
      "# HELP atende_active_calls Calls up.\\nNow \\\\ here\n"
      "# TYPE atende_active_calls gauge\n"
      "atende_active_calls 1\n"
      "# HELP atende_x_seconds X.\n"
      "# TYPE atende_x_seconds histogram\n"
      "atende_x_seconds_bucket{le=\"0.005\"} 1\n"
      "atende_x_seconds_bucket{le=\"0.5\"} 3\n"
      "atende_x_seconds_bucket{le=\"1\"} 3\n"
      "atende_x_seconds_bucket{le=\"+Inf\"} 4\n"
      "atende_x_seconds_sum 7.501\n"
      "atende_x_seconds_count 4\n";
  EXPECT_EQ(reg.render(), expected);
}

TEST(Metrics, EscapesLabelValuesAndMergesLabelsWithLe) {
  MetricsRegistry reg;
  reg.counter("a_total", "h", {{"peer", "x\"y\\z\nw"}}).inc();
  Histogram& h = reg.histogram("b_seconds", "h", {1}, {{"leg", "sip"}});
  h.observe(1);  // a value equal to a bound belongs to that bucket (le = less or equal)
  const std::string text = reg.render();
  EXPECT_NE(text.find("a_total{peer=\"x\\\"y\\\\z\\nw\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("b_seconds_bucket{leg=\"sip\",le=\"1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("b_seconds_count{leg=\"sip\"} 1\n"), std::string::npos) << text;
}

TEST(Metrics, SameNameAndLabelsReturnsSameMetric) {
  MetricsRegistry reg;
  Counter& a = reg.counter("c_total", "h", {{"k", "v"}});
  Counter& b = reg.counter("c_total", "h", {{"k", "v"}});
  Counter& other = reg.counter("c_total", "h", {{"k", "w"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &other);
}

TEST(Metrics, RejectsBadRegistrations) {
  MetricsRegistry reg;
  reg.counter("c_total", "h");
  EXPECT_THROW(reg.gauge("c_total", "h"), std::invalid_argument);
  EXPECT_THROW(reg.counter("9bad", "h"), std::invalid_argument);
  EXPECT_THROW(reg.counter("bad-name", "h"), std::invalid_argument);
  EXPECT_THROW(reg.counter("ok_total", "h", {{"__x", "v"}}), std::invalid_argument);
  EXPECT_THROW(reg.counter("ok_total", "h", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  EXPECT_THROW(reg.histogram("h_seconds", "h", {1, 0.5}), std::invalid_argument);
  EXPECT_THROW(reg.histogram("h_seconds", "h", {1}, {{"le", "x"}}), std::invalid_argument);
}

TEST(Metrics, ConcurrentIncrementsSumExactly) {
  MetricsRegistry reg;
  Counter& c = reg.counter("n_total", "h");
  Gauge& g = reg.gauge("g", "h");
  Histogram& h = reg.histogram("h_seconds", "h", {0.5});
  constexpr int kThreads = 24;  // more threads than shards: shared slots must still add up
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        c.inc();
        g.add(t % 2 == 0 ? 2 : -1);
        h.observe(i % 2 == 0 ? 0.25 : 1.0);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(g.value(), int64_t{kThreads / 2} * kPerThread);
  const auto snap = h.snapshot();
  EXPECT_EQ(snap.count(), uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(snap.cumulative[0], uint64_t{kThreads} * kPerThread / 2);
  EXPECT_DOUBLE_EQ(snap.sum, kThreads * (kPerThread / 2) * 1.25);
}

TEST(Metrics, GaugeSetOverridesShards) {
  MetricsRegistry reg;
  Gauge& g = reg.gauge("g", "h");
  std::thread([&] { g.add(5); }).join();
  g.set(2);
  EXPECT_EQ(g.value(), 2);
}

TEST(Metrics, CoreMetricsRegisterOnce) {
  MetricsRegistry reg;
  CoreMetrics m = register_core_metrics(reg);
  CoreMetrics again = register_core_metrics(reg);
  EXPECT_EQ(&m.calls_answered, &again.calls_answered);
  m.rtp_packets_in.inc(2);
  m.rtp_jitter_seconds.observe(0.003);
  const std::string text = reg.render();
  EXPECT_NE(text.find("atende_rtp_packets_total{direction=\"in\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE atende_rtp_jitter_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("atende_store_dropped_writes_total 0\n"), std::string::npos);
}

TEST(Metrics, FormatsDoublesShortest) {
  EXPECT_EQ(prometheus_format_double(0.005), "0.005");
  EXPECT_EQ(prometheus_format_double(10), "10");
  EXPECT_EQ(prometheus_format_double(1.0 / 0.0), "+Inf");
}

}  // namespace
}  // namespace atende
