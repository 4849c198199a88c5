// In front of the other transports' Dialer: "ws://" and "wss://" targets, and hang-ups and
// transfers of the legs the ASP front made, go to it; everything else to `inner`.
#pragma once
#include "asp/asp_front.h"
#include "sessions/dialer.h"

namespace atende::asp {

class AspRoutingDialer final : public sessions::Dialer {
 public:
  AspRoutingDialer(sessions::Dialer& inner, AspFront& asp) : inner_(inner), asp_(asp) {}

  sessions::ControlResult<sessions::Done> check(const std::string& to,
                                                const std::string& trunk) const override {
    return is_asp_target(to) ? asp_.check(to, trunk) : inner_.check(to, trunk);
  }
  void dial(sessions::DialOrder order) override {
    if (is_asp_target(order.to)) {
      asp_.dial(std::move(order));
    } else {
      inner_.dial(std::move(order));
    }
  }
  void hang_up(const std::string& leg_id) override {
    if (asp_.owns(leg_id)) {
      asp_.hang_up(leg_id);
    } else {
      inner_.hang_up(leg_id);
    }
  }
  void transfer(const std::string& leg_id, const std::string& to) override {
    if (asp_.owns(leg_id)) {
      asp_.transfer(leg_id, to);
    } else {
      inner_.transfer(leg_id, to);
    }
  }
  // Only SIP holds a leg ringing (ASP sessions arrive answered).
  void answer_held(const std::string& leg_id) override { inner_.answer_held(leg_id); }
  bool progress_held(const std::string& leg_id) override { return inner_.progress_held(leg_id); }
  void reject_held(const std::string& leg_id, int status, const std::string& reason) override {
    inner_.reject_held(leg_id, status, reason);
  }
  std::string leg_kind(const std::string& to) const override {
    return is_asp_target(to) ? "asp" : inner_.leg_kind(to);
  }

 private:
  sessions::Dialer& inner_;
  AspFront& asp_;
};

}  // namespace atende::asp
