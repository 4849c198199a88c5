// The ASP transport's metrics (docs/asp.md "Metrics"): those of every stream transport under
// atende_asp_* (messages, text and binary, per direction), and the barge-in notices.
#pragma once
#include "core/metrics.h"
#include "media/stream_transport_metrics.h"

namespace atende::asp {

struct AspMetrics : media::StreamTransportMetrics {
  explicit AspMetrics(MetricsRegistry& r);
  Counter& barge_ins;  // atende_asp_barge_ins_total
};

}  // namespace atende::asp
