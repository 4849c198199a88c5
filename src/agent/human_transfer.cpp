#include "agent/human_transfer.h"

namespace atende::agent {

void HumanTransfer::start(const HumanTarget& target) {
  if (state_ != State::kNone) return;
  if (target.to.empty()) return fail("no human configured");
  target_ = target;
  handoff_heard_ = false;
  if (target_.mode == "refer") {
    state_ = State::kReferring;  // sent once the hand-off has been heard
    return;
  }
  // Dial while the hand-off plays: the person may answer by the time it ends.
  state_ = State::kDialling;
  host_.dial({.to = target_.to, .ring_timeout = target_.ring_timeout},
             [this](const flow::DialResult& r) { on_dialled(r); });
}

void HumanTransfer::on_dialled(const flow::DialResult& r) {
  if (state_ != State::kDialling || events_.agent_gone()) {
    if (r.answered()) host_.hang_up_leg(r.leg_id);  // no longer wanted
    return;
  }
  if (!r.answered()) return fail(r.outcome);
  state_ = State::kAnswered;
  human_leg_ = r.leg_id;
  if (handoff_heard_) hand_over();
}

void HumanTransfer::handoff_heard() {
  if (state_ == State::kNone || handoff_heard_) return;
  handoff_heard_ = true;
  if (state_ == State::kAnswered || state_ == State::kReferring) hand_over();
}

void HumanTransfer::hand_over() {
  if (state_ == State::kReferring) {
    host_.record_event("transfer", "refer " + target_.to);
    host_.transfer(target_.to, [this](int status) {
      if (state_ != State::kReferring) return;  // cancelled meanwhile
      if (status >= 200 && status < 300) {
        state_ = State::kNone;
        events_.on_handed_over();  // the far end is someone else's now; the session hangs up
      } else {
        fail("refer " + std::to_string(status));
      }
    });
    return;
  }
  host_.record_event("transfer", "bridge " + human_leg_);
  if (!host_.bridge(human_leg_, false, nullptr)) return fail("bridge refused");
  // The session destroys the agent once the bridge stands (not before this returns).
  state_ = State::kNone;
  human_leg_.clear();
  events_.on_handed_over();
}

void HumanTransfer::fail(const std::string& why) {
  host_.record_event("transfer_failed", why);
  if (state_ == State::kAnswered && !human_leg_.empty()) host_.hang_up_leg(human_leg_);
  state_ = State::kNone;
  human_leg_.clear();
  events_.on_transfer_failed(why);
}

void HumanTransfer::cancel() {
  if (state_ == State::kAnswered && !human_leg_.empty()) host_.hang_up_leg(human_leg_);
  state_ = State::kNone;
  human_leg_.clear();
}

}  // namespace atende::agent
