// The AudioSocket transport's metrics (docs/audiosocket.md "Metrics"): those of every stream
// transport under atende_audiosocket_*, and the time a frame takes to reach the flow.
#pragma once
#include "core/metrics.h"
#include "media/stream_transport_metrics.h"

namespace atende::audiosocket {

struct AudioSocketMetrics : media::StreamTransportMetrics {
  explicit AudioSocketMetrics(MetricsRegistry& r);
  Histogram& frame_to_flow;  // atende_media_frame_to_flow_seconds{leg="audiosocket"}
};

}  // namespace atende::audiosocket
