// The one Dialer the sessions part sees, in front of every transport that can place a call:
// "audiosocket:HOST:PORT" targets, and numbers whose trunk (dial plan or default) has
// `transport: audiosocket`, go to the AudioSocket front-end (as do hang-ups of the legs it
// made); everything else to the SIP one. Flows dial a number as they always did; which
// transport carries it is decided here.
#pragma once
#include "audiosocket/audiosocket_front.h"
#include "sessions/dial_plan.h"
#include "sessions/dialer.h"

namespace atende::audiosocket {

class TransportDialer final : public sessions::Dialer {
 public:
  TransportDialer(sessions::Dialer& sip, AudioSocketFront& audiosocket,
                  const sessions::DialPlan& plan)
      : sip_(sip), audiosocket_(audiosocket), plan_(plan) {}

  // The AudioSocket target `to` goes to, or "" when it is SIP's.
  std::string audiosocket_route(const std::string& to, const std::string& trunk) const {
    if (is_audiosocket_target(to)) return to;
    if (to.rfind("sip:", 0) == 0 || to.rfind("sips:", 0) == 0) return "";
    const TrunkConfig* t = plan_.trunk(trunk.empty() ? plan_.trunk_for(to) : trunk);
    if (!t || t->transport != "audiosocket") return "";
    return "audiosocket:" +
           (t->host.find(':') != std::string::npos ? "[" + t->host + "]" : t->host) + ":" +
           std::to_string(t->port);
  }

  sessions::ControlResult<sessions::Done> check(const std::string& to,
                                                const std::string& trunk) const override {
    const std::string route = audiosocket_route(to, trunk);
    return route.empty() ? sip_.check(to, trunk) : audiosocket_.check(route, trunk);
  }
  void dial(sessions::DialOrder order) override {
    std::string route = audiosocket_route(order.to, order.trunk);
    if (route.empty()) {
      sip_.dial(std::move(order));
      return;
    }
    order.to = std::move(route);
    audiosocket_.dial(std::move(order));
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
  // Only SIP holds a leg ringing (an AudioSocket connection arrives answered).
  void answer_held(const std::string& leg_id) override { sip_.answer_held(leg_id); }
  bool progress_held(const std::string& leg_id) override { return sip_.progress_held(leg_id); }
  void reject_held(const std::string& leg_id, int status, const std::string& reason) override {
    sip_.reject_held(leg_id, status, reason);
  }
  std::string leg_kind(const std::string& to) const override {
    return audiosocket_route(to, "").empty() ? sip_.leg_kind(to) : "audiosocket";
  }

 private:
  sessions::Dialer& sip_;
  AudioSocketFront& audiosocket_;
  const sessions::DialPlan& plan_;
};

}  // namespace atende::audiosocket
