// Who may send a call's RTP, and where we answer it: the latching rule (docs/media.md,
// "Media from the right place"). Pure logic, no sockets, so it is unit-tested on its own;
// RtpLeg asks it about every packet (a few compares, no allocation).
//
// strict (the default): only packets from the IP address the peer's SDP names are taken.
//   The first of them latches its port and SSRC (symmetric RTP, RFC 4961: we answer to that
//   port, which is right behind a firewall that keeps the address but moves the port).
//   After that only that exact address:port is taken, and from it only the latched SSRC; a
//   new SSRC replaces the old one only once the old one has gone quiet (kSsrcQuiet: a PBX
//   that re-originates its stream), never interleaved with it.
// nat ("comedia"): for callers behind NAT, whose SDP names a private address their packets
//   never come from. The first valid packet from anywhere latches address, port and SSRC,
//   and the latch never moves after, except to the address a re-INVITE's SDP names.
//
// A re-INVITE naming the same address changes nothing (hold, unhold, session refresh keep
// the latch). One naming a new address: strict forgets the latch and takes packets from the
// new SDP address only; nat keeps its latch and lets packets from the new SDP address (and
// only those) take it over. So a stranger's packets never steer a call, before or after a
// re-INVITE: only the SDP (signalling) can move it.
#pragma once
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/clock.h"

namespace atende::media {

enum class LatchMode { kStrict, kNat };
// "strict" / "nat"; nullopt for anything else.
std::optional<LatchMode> parse_latch_mode(std::string_view text);
const char* to_string(LatchMode mode);

class RtpSource {
 public:
  // How long the latched SSRC must have been silent before another SSRC from the latched
  // address replaces it (a PBX that re-originates its stream, a restarted phone).
  static constexpr Millis kSsrcQuiet{300};

  enum class Verdict {
    kAccept,     // the latched stream
    kNewStream,  // accepted; the stream restarted (latched now, or a new SSRC): reset
    kStranger,   // wrong address: dropped
    kOtherSsrc,  // right address, another SSRC while the latched one still talks: dropped
  };

  RtpSource(LatchMode mode, const boost::asio::ip::udp::endpoint& sdp);

  // A parsed RTP packet from `from`. `now` is its arrival.
  Verdict on_rtp(const boost::asio::ip::udp::endpoint& from, uint32_t ssrc, MonoTime now);
  // May RTCP from `from` be believed (and answered)?
  bool rtcp_allowed(const boost::asio::ip::udp::endpoint& from) const;
  // A re-INVITE's SDP address (unspecified or port 0, as on hold with c=0.0.0.0: ignored).
  void on_sdp(const boost::asio::ip::udp::endpoint& sdp);

  // Where our RTP goes: the latched source, else the SDP's address.
  const boost::asio::ip::udp::endpoint& peer() const { return latched_ ? latched_to_ : sdp_; }
  bool latched() const { return latched_; }
  uint32_t ssrc() const { return ssrc_; }
  LatchMode mode() const { return mode_; }

 private:
  void latch(const boost::asio::ip::udp::endpoint& from, uint32_t ssrc, MonoTime now);

  LatchMode mode_;
  bool latched_ = false;
  bool sdp_moved_ = false;  // nat: a re-INVITE named a new address that may take the latch
  uint32_t ssrc_ = 0;
  MonoTime last_latched_rtp_{};
  boost::asio::ip::udp::endpoint sdp_;
  boost::asio::ip::udp::endpoint latched_to_;
};

}  // namespace atende::media
