// The one Dialer the sessions part sees, in front of every transport that can place a call:
// "audiosocket:HOST:PORT" targets (and the legs they made) go to the AudioSocket front-end,
// everything else to the SIP one. Flows dial a target as they always did; which transport
// carries it is decided here.
#pragma once
#include "audiosocket/audiosocket_front.h"
#include "sessions/dialer.h"

namespace atende::audiosocket {

class TransportDialer final : public sessions::Dialer {
 public:
  TransportDialer(sessions::Dialer& sip, AudioSocketFront& audiosocket)
      : sip_(sip), audiosocket_(audiosocket) {}

  sessions::ControlResult<sessions::Done> check(const std::string& to,
                                                const std::string& trunk) const override {
    return is_audiosocket_target(to) ? audiosocket_.check(to, trunk) : sip_.check(to, trunk);
  }
  void dial(sessions::DialOrder order) override {
    if (is_audiosocket_target(order.to)) {
      audiosocket_.dial(std::move(order));
    } else {
      sip_.dial(std::move(order));
    }
  }
  void hang_up(const std::string& leg_id) override {
    if (audiosocket_.owns(leg_id)) {
      audiosocket_.hang_up(leg_id);
    } else {
      sip_.hang_up(leg_id);
    }
  }
  void transfer(const std::string& leg_id, const std::string& to) override {
    if (audiosocket_.owns(leg_id)) {
      audiosocket_.transfer(leg_id, to);
    } else {
      sip_.transfer(leg_id, to);
    }
  }
  std::string leg_kind(const std::string& to) const override {
    return is_audiosocket_target(to) ? "audiosocket" : sip_.leg_kind(to);
  }

 private:
  sessions::Dialer& sip_;
  AudioSocketFront& audiosocket_;
};

}  // namespace atende::audiosocket
