// The ASP transport's metrics (docs/asp.md "Metrics"), registered once by the front-end and
// shared by its sessions. Counters are atomics: the I/O thread and the workers add to them.
#pragma once
#include "core/metrics.h"

namespace atende::asp {

struct AspMetrics {
  explicit AspMetrics(MetricsRegistry& r);
  Gauge& active;             // atende_asp_sessions
  Counter& accepted;         // atende_asp_connections_total{result="accepted"}
  Counter& refused;          // {result="refused"}: auth, in use, no flow, busy, bad start
  Counter& connected_out;    // {result="connected_out"}: our client sessions
  Counter& connect_failed;   // {result="connect_failed"}
  Counter& frames_in;        // atende_asp_messages_total{direction="in"}
  Counter& frames_out;       // {direction="out"}
  Counter& bytes_in;         // atende_asp_bytes_total{direction="in"}
  Counter& bytes_out;        // {direction="out"}
  Counter& protocol_errors;  // atende_asp_errors_total{reason="protocol"}
  Counter& too_fast;         // {reason="too_fast"}
  Counter& not_reading;      // {reason="not_reading"}
  Counter& underruns;        // atende_asp_underruns_total
  Counter& catch_up_drops;   // atende_asp_catch_up_drops_total (samples)
  Counter& barge_ins;        // atende_asp_barge_ins_total
};

}  // namespace atende::asp
