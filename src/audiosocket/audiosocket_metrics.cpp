#include "audiosocket/audiosocket_metrics.h"

namespace atende::audiosocket {

AudioSocketMetrics::AudioSocketMetrics(MetricsRegistry& r)
    : media::StreamTransportMetrics(r, {"atende_audiosocket", "AudioSocket", "frames"}),
      frame_to_flow(r.histogram(kFrameToFlowName, kFrameToFlowHelp, frame_to_flow_buckets(),
                                {{"leg", "audiosocket"}})) {}

}  // namespace atende::audiosocket
