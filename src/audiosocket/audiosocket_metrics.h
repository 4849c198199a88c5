// The AudioSocket transport's metrics (docs/audiosocket.md "Metrics"), registered once by the
// front-end and shared by its legs. Counters are atomics: legs on several workers add to them.
#pragma once
#include "core/metrics.h"

namespace atende::audiosocket {

struct AudioSocketMetrics {
  explicit AudioSocketMetrics(MetricsRegistry& r);
  Gauge& active;             // atende_audiosocket_sessions
  Counter& accepted;         // atende_audiosocket_connections_total{result="accepted"}
  Counter& refused;          // {result="refused"}: no UUID, UUID in use, no flow, busy
  Counter& connected_out;    // {result="connected_out"}: our client connections
  Counter& connect_failed;   // {result="connect_failed"}
  Counter& frames_in;        // atende_audiosocket_frames_total{direction="in"}
  Counter& frames_out;       // {direction="out"}
  Counter& bytes_in;         // atende_audiosocket_bytes_total{direction="in"}
  Counter& bytes_out;        // {direction="out"}
  Counter& protocol_errors;  // atende_audiosocket_errors_total{reason="protocol"}
  Counter& too_fast;         // {reason="too_fast"}: inbound audio queue overflowed
  Counter& not_reading;      // {reason="not_reading"}: outbound queue overflowed
  Counter& underruns;        // atende_audiosocket_underruns_total: a tick with no audio
  Counter& catch_up_drops;   // atende_audiosocket_catch_up_drops_total: inbound frames
                             // dropped because they waited too long (our stall)
  Histogram& frame_to_flow;  // atende_media_frame_to_flow_seconds{leg="audiosocket"}
};

}  // namespace atende::audiosocket
