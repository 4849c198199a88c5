#include "audiosocket/audiosocket_metrics.h"

namespace atende::audiosocket {
namespace {
constexpr const char* kConnections = "atende_audiosocket_connections_total";
constexpr const char* kConnectionsHelp = "AudioSocket connections by result.";
constexpr const char* kFrames = "atende_audiosocket_frames_total";
constexpr const char* kFramesHelp = "AudioSocket messages by direction.";
constexpr const char* kBytes = "atende_audiosocket_bytes_total";
constexpr const char* kBytesHelp = "AudioSocket bytes by direction.";
constexpr const char* kErrors = "atende_audiosocket_errors_total";
constexpr const char* kErrorsHelp = "AudioSocket connections closed for misbehaviour, by reason.";
}  // namespace

AudioSocketMetrics::AudioSocketMetrics(MetricsRegistry& r)
    : active(r.gauge("atende_audiosocket_sessions", "AudioSocket connections up now.")),
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
      underruns(r.counter("atende_audiosocket_underruns_total",
                          "20 ms ticks of an AudioSocket leg with no audio from the peer.")),
      catch_up_drops(r.counter("atende_audiosocket_catch_up_drops_total",
                               "Inbound AudioSocket frames dropped because they had waited too "
                               "long for the leg's tick (a worker stall).")),
      frame_to_flow(r.histogram(kFrameToFlowName, kFrameToFlowHelp, frame_to_flow_buckets(),
                                {{"leg", "audiosocket"}})) {}

}  // namespace atende::audiosocket
