// Ends calls whose peer went silent: the RTP inactivity timeout (end_reason "rtp_timeout",
// docs/media.md "Dead peers"). Per packet it costs one store of a timestamp; the leg asks
// expired() on its tick (every 500 ms).
//
// Armed once the call is confirmed (inbound: the ACK came; outbound: answered), so a call
// that never got its ACK ends as "no_ack", not here. Any RTP or RTCP the leg accepted from
// its peer counts as a sign of life.
//
// On hold (the peer's SDP is sendonly, recvonly or inactive, or c=0.0.0.0) no RTP is due,
// so only RTCP can show the peer is alive:
//   - a peer that has sent RTCP in this call must keep sending it: the call ends after the
//     timeout, but never sooner than kHoldFloor (RFC 3550 6.3.5: five intervals of the
//     5 s minimum, so a peer with the usual 5 s reports is never cut between two);
//   - a peer that never sent RTCP cannot be judged: the timeout is suspended while on hold
//     (the call stays guarded by SIP session timers, when negotiated, and max_call_seconds),
//     and starts afresh when the call is taken off hold.
#pragma once
#include <algorithm>

#include "core/clock.h"

namespace atende::media {

class MediaWatchdog {
 public:
  static constexpr Millis kHoldFloor{25000};

  explicit MediaWatchdog(Millis timeout = Millis{0}) : timeout_(timeout) {}

  void set_timeout(Millis timeout) { timeout_ = timeout; }
  Millis timeout() const { return timeout_; }

  // Starts watching (idempotent: a second call does not move the deadline).
  void arm(MonoTime now) {
    if (armed_) return;
    armed_ = true;
    last_heard_ = std::max(last_heard_, now);
  }
  bool armed() const { return armed_; }

  // The hot path: a packet from the peer.
  void heard_rtp(MonoTime at) { last_heard_ = at; }
  void heard_rtcp(MonoTime at) {
    last_heard_ = at;
    rtcp_seen_ = true;
  }

  // A re-INVITE put the call on hold or took it off: a full timeout from now either way.
  void set_hold(bool on_hold, MonoTime now) {
    if (on_hold == on_hold_) return;
    on_hold_ = on_hold;
    last_heard_ = now;
  }
  bool on_hold() const { return on_hold_; }

  bool expired(MonoTime now) const {
    if (!armed_ || timeout_.count() <= 0) return false;
    if (!on_hold_) return now - last_heard_ > timeout_;
    if (!rtcp_seen_) return false;
    return now - last_heard_ > std::max(timeout_, kHoldFloor);
  }

 private:
  Millis timeout_;
  MonoTime last_heard_{};
  bool armed_ = false;
  bool on_hold_ = false;
  bool rtcp_seen_ = false;
};

}  // namespace atende::media
