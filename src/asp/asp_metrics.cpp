#include "asp/asp_metrics.h"

namespace atende::asp {

AspMetrics::AspMetrics(MetricsRegistry& r)
    : media::StreamTransportMetrics(r, {"atende_asp", "ASP", "messages"}),
      barge_ins(r.counter("atende_asp_barge_ins_total",
                          "barge_in notices, sent (client role) or received (server role).")) {}

}  // namespace atende::asp
