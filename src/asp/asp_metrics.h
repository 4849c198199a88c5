// The ASP transport's metrics (docs/asp.md "Metrics"): those of every stream transport under
// atende_asp_* (messages, text and binary, per direction), the barge-in notices, and the time
// a frame takes to reach the flow.
#pragma once
#include "core/metrics.h"
#include "media/stream_transport_metrics.h"

namespace atende::asp {

struct AspMetrics : media::StreamTransportMetrics {
  explicit AspMetrics(MetricsRegistry& r);
  Counter& barge_ins;  // atende_asp_barge_ins_total
  // atende_media_frame_to_flow_seconds{leg="asp"}: from when the I/O thread took an audio
  // message off the WebSocket to its frame handed to the flow (WebSocket I/O has no kernel
  // receive timestamps: the socket's own wait is not in it).
  Histogram& frame_to_flow;
};

}  // namespace atende::asp
