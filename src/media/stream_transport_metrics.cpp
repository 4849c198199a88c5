#include "media/stream_transport_metrics.h"

#include <string>

namespace atende::media {
namespace {

std::string name(const StreamTransportNames& n, const char* suffix) {
  return std::string(n.prefix) + suffix;
}
std::string help(const StreamTransportNames& n, const char* text) {
  return std::string(n.display) + text;
}

std::string unit_name(const StreamTransportNames& n) {
  return std::string(n.prefix) + "_" + n.unit + "_total";
}
std::string unit_help(const StreamTransportNames& n) {
  return std::string(n.display) + " " + n.unit + " by direction.";
}

}  // namespace

StreamTransportMetrics::StreamTransportMetrics(MetricsRegistry& r, const StreamTransportNames& n)
    : active(r.gauge(name(n, "_sessions"), help(n, " connections up now."))),
      accepted(r.counter(name(n, "_connections_total"), help(n, " connections by result."),
                         {{"result", "accepted"}})),
      refused(r.counter(name(n, "_connections_total"), help(n, " connections by result."),
                        {{"result", "refused"}})),
      connected_out(r.counter(name(n, "_connections_total"), help(n, " connections by result."),
                              {{"result", "connected_out"}})),
      connect_failed(r.counter(name(n, "_connections_total"), help(n, " connections by result."),
                               {{"result", "connect_failed"}})),
      frames_in(r.counter(unit_name(n), unit_help(n), {{"direction", "in"}})),
      frames_out(r.counter(unit_name(n), unit_help(n), {{"direction", "out"}})),
      bytes_in(r.counter(name(n, "_bytes_total"), help(n, " bytes by direction."),
                         {{"direction", "in"}})),
      bytes_out(r.counter(name(n, "_bytes_total"), help(n, " bytes by direction."),
                          {{"direction", "out"}})),
      protocol_errors(r.counter(name(n, "_errors_total"),
                                help(n, " connections closed for misbehaviour, by reason."),
                                {{"reason", "protocol"}})),
      too_fast(r.counter(name(n, "_errors_total"),
                         help(n, " connections closed for misbehaviour, by reason."),
                         {{"reason", "too_fast"}})),
      not_reading(r.counter(name(n, "_errors_total"),
                            help(n, " connections closed for misbehaviour, by reason."),
                            {{"reason", "not_reading"}})),
      underruns(r.counter(name(n, "_underruns_total"),
                          help(n, " legs' 20 ms ticks with no audio from the peer."))),
      catch_up_drops(r.counter(name(n, "_catch_up_drops_total"),
                               help(n,
                                    " inbound audio dropped because it waited too long for "
                                    "the leg's tick (a worker stall)."))),
      backlog_drops(r.counter(name(n, "_backlog_drops_total"),
                              help(n,
                                   " inbound frames dropped from a standing backlog (the queue "
                                   "did not empty for 200 ms: after a stall)."))),
      out_drops(r.counter(name(n, "_out_drops_total"),
                          help(n,
                               " outbound frames dropped because the I/O thread that writes "
                               "them fell behind (not the peer)."))),
      phase_moves(r.counter(name(n, "_phase_moves_total"),
                            help(n,
                                 " legs moved within the 20 ms period to read the peer's "
                                 "audio soon after it arrives."))) {}

}  // namespace atende::media
