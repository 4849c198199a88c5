#include "asp/asp_metrics.h"

namespace atende::asp {

AspMetrics::AspMetrics(MetricsRegistry& r)
    : media::StreamTransportMetrics(r, {"atende_asp", "ASP", "messages"}),
      barge_ins(r.counter("atende_asp_barge_ins_total",
                          "barge_in notices, sent (client role) or received (server role).")),
      frame_to_flow(r.histogram(kFrameToFlowName, kFrameToFlowHelp, frame_to_flow_buckets(),
                                {{"leg", "asp"}})) {}

}  // namespace atende::asp
