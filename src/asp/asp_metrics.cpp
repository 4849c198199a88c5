#include "asp/asp_metrics.h"

namespace atende::asp {
namespace {
constexpr const char* kConnections = "atende_asp_connections_total";
constexpr const char* kConnectionsHelp = "ASP WebSocket sessions by result.";
constexpr const char* kFrames = "atende_asp_messages_total";
constexpr const char* kFramesHelp = "ASP WebSocket messages (text and binary) by direction.";
constexpr const char* kBytes = "atende_asp_bytes_total";
constexpr const char* kBytesHelp = "ASP message payload bytes by direction.";
constexpr const char* kErrors = "atende_asp_errors_total";
constexpr const char* kErrorsHelp = "ASP sessions closed for misbehaviour, by reason.";
}  // namespace

AspMetrics::AspMetrics(MetricsRegistry& r)
    : active(r.gauge("atende_asp_sessions", "ASP sessions up now.")),
      accepted(r.counter(kConnections, kConnectionsHelp, {{"result", "accepted"}})),
      refused(r.counter(kConnections, kConnectionsHelp, {{"result", "refused"}})),
      connected_out(r.counter(kConnections, kConnectionsHelp, {{"result", "connected_out"}})),
      connect_failed(r.counter(kConnections, kConnectionsHelp, {{"result", "connect_failed"}})),
      frames_in(r.counter(kFrames, kFramesHelp, {{"direction", "in"}})),
      frames_out(r.counter(kFrames, kFramesHelp, {{"direction", "out"}})),
      bytes_in(r.counter(kBytes, kBytesHelp, {{"direction", "in"}})),
      bytes_out(r.counter(kBytes, kBytesHelp, {{"direction", "out"}})),
      protocol_errors(r.counter(kErrors, kErrorsHelp, {{"reason", "protocol"}})),
      too_fast(r.counter(kErrors, kErrorsHelp, {{"reason", "too_fast"}})),
      not_reading(r.counter(kErrors, kErrorsHelp, {{"reason", "not_reading"}})),
      underruns(r.counter("atende_asp_underruns_total",
                          "20 ms ticks of an ASP leg with no audio from the peer.")),
      catch_up_drops(r.counter("atende_asp_catch_up_drops_total",
                               "Inbound ASP samples dropped because the leg's ring was full "
                               "(a worker stall).")),
      barge_ins(r.counter("atende_asp_barge_ins_total",
                          "barge_in notices, sent (client role) or received (server role).")) {}

}  // namespace atende::asp
