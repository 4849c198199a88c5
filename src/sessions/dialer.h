// What the sessions part asks of a transport that can place calls (the SIP front-end
// today). The front-end reports back through SessionManager's leg_* methods with the
// order's leg_id: progress, the leg once answered, and the end (failure or hang-up).
#pragma once
#include <string>

#include "core/clock.h"
#include "core/leg.h"
#include "sessions/call_control.h"

namespace atende::sessions {

struct DialOrder {
  std::string leg_id;     // ours, already in the store as a started call
  std::string to;         // as asked: a number, an extension or a sip: URI
  std::string trunk;      // empty: the dial plan's or the default trunk
  std::string caller_id;  // empty: the trunk's from user
  Millis ring_timeout{30000};
  Executor* near = nullptr;  // put the new leg's media on this executor (same session)
};

class Dialer {
 public:
  virtual ~Dialer() = default;
  // Any thread: whether `to` can be dialled at all (trunk exists, URI or number well
  // formed), so an API request fails with a clear 400 before anything is recorded.
  virtual ControlResult<Done> check(const std::string& to, const std::string& trunk) const = 0;
  // Any thread: place the call. Outcomes come back through SessionManager.
  virtual void dial(DialOrder order) = 0;
  // Any thread: end the leg, whatever its state (CANCEL, BYE).
  virtual void hang_up(const std::string& leg_id) = 0;
  // Any thread: blind transfer of an answered leg (REFER); the result comes back through
  // SessionManager::leg_transfer_progress.
  virtual void transfer(const std::string& leg_id, const std::string& to) = 0;
  // Any thread: an inbound leg held ringing (Admission::hold) is answered now, or refused
  // with the final `status` (SIP-style, 400..699) and its end recorded with `reason`.
  // Transports that never hold a leg ignore both.
  virtual void answer_held(const std::string& leg_id) {}
  virtual void reject_held(const std::string& leg_id, int status, const std::string& reason) {}
  // Any thread: early media for a held inbound leg (SIP: 183 with our SDP); the front-end
  // then hands the leg to SessionManager::leg_early_inbound. False when it cannot (no
  // media yet: a delayed offer; a transport without ringing).
  virtual bool progress_held(const std::string& leg_id) { return false; }
  // The kind of leg dialling `to` makes, for its record ("sip", "audiosocket").
  virtual std::string leg_kind(const std::string& to) const { return "sip"; }
};

}  // namespace atende::sessions
