// The counters every stream transport keeps (audio over one TCP or WebSocket connection:
// AudioSocket, ASP), each under its own metric names (docs/audiosocket.md, docs/asp.md
// "Metrics"). Registered once by the front-end and shared by its legs: counters are
// atomics, the I/O thread and the workers add to them.
#pragma once
#include "core/metrics.h"

namespace atende::media {

struct StreamTransportNames {
  const char* prefix;   // "atende_audiosocket": <prefix>_sessions, <prefix>_errors_total, ...
  const char* display;  // "AudioSocket", for the help texts
  const char* unit;     // what is counted per direction: "frames" or "messages"
};

struct StreamTransportMetrics {
  StreamTransportMetrics(MetricsRegistry& r, const StreamTransportNames& names);
  Gauge& active;             // <prefix>_sessions
  Counter& accepted;         // <prefix>_connections_total{result="accepted"}
  Counter& refused;          // {result="refused"}: bad start, id in use, no flow, busy
  Counter& connected_out;    // {result="connected_out"}: our client connections
  Counter& connect_failed;   // {result="connect_failed"}
  Counter& frames_in;        // <prefix>_<unit>_total{direction="in"}
  Counter& frames_out;       // {direction="out"}
  Counter& bytes_in;         // <prefix>_bytes_total{direction="in"}
  Counter& bytes_out;        // {direction="out"}
  Counter& protocol_errors;  // <prefix>_errors_total{reason="protocol"}
  Counter& too_fast;         // {reason="too_fast"}: inbound audio queue overflowed
  Counter& not_reading;      // {reason="not_reading"}: outbound queue overflowed
  Counter& underruns;        // <prefix>_underruns_total: a tick with no audio
  Counter& catch_up_drops;   // <prefix>_catch_up_drops_total: inbound audio dropped because
                             // it waited too long for the leg's tick (our stall)
  Counter& backlog_drops;    // <prefix>_backlog_drops_total: inbound frames dropped from a
                             // standing backlog (media/backlog_trim.h)
  Counter& out_drops;        // <prefix>_out_drops_total: our outbound audio dropped because
                             // our own I/O thread fell behind (ASP), not the peer
  Counter& phase_moves;      // <prefix>_phase_moves_total: legs moved to read soon after the
                             // peer's audio arrives (media/read_phase.h)
};

}  // namespace atende::media
