// ScriptedFlow: the steps that use more than one leg: dial (place a call, optionally run a
// flow on the answered leg), bridge (connect the caller with it) and transfer (SIP REFER).
//
// The host answers later, on this call's thread, through callbacks. Each carries the
// leg_generation_ of the moment it was asked; leaving the step (or the call) bumps it, so
// a late answer is dropped, and a leg answered for a dial nobody waits for any more is
// hung up at once. While dialling, while a child flow runs and while transferring, the
// caller's speech and keys do nothing (keys are still logged); max_duration still applies.
#include "flow/flow_loader.h"
#include "flow/scripted_flow.h"
#include "flow/spoken_value.h"
#include "flow/template_text.h"

namespace atende::flow {

std::string ScriptedFlow::fill_raw(const std::string& tmpl) const {
  return fill_template(tmpl, [this](std::string_view name, std::string* v) {
    auto it = variables_.find(std::string(split_placeholder(name).slot));
    *v = it == variables_.end() ? "" : it->second;
    return true;
  });
}

void ScriptedFlow::finish_flow() {
  if (finished_) return;
  finished_ = true;
  host_.flow_finished(variables_);
}

void ScriptedFlow::drop_dialled_leg() {
  ++leg_generation_;
  dial_pending_.reset();
  if (!dialled_leg_.empty() && !bridged_) {
    host_.record_event("hang_up_leg", dialled_leg_);
    host_.hang_up_leg(dialled_leg_);
    dialled_leg_.clear();
  }
}

// ---- dial ----------------------------------------------------------------------------

void ScriptedFlow::start_dial(MonoTime now) {
  const StepSpec& s = step();
  if (dial_tries_ == 0 && !dialled_leg_.empty() && !bridged_) {
    // A leg parked by an earlier dial step that no bridge took: this dial replaces it.
    host_.hang_up_leg(dialled_leg_);
    dialled_leg_.clear();
  }
  ++dial_tries_;
  DialRequest request{fill_raw(s.to), s.trunk, fill_raw(s.caller_id), s.ring_timeout,
                      s.early_media};
  const uint64_t generation = leg_generation_;
  if (request.to.empty()) {
    host_.record_event("dial", "(nothing to dial: " + s.to + " is empty)");
    return on_dial_result(
        generation,
        DialResult{.outcome = "failed", .sip_status = 0, .leg_id = {}, .message = "empty"});
  }
  host_.record_event("dial", request.to + " try " + std::to_string(dial_tries_) + " of " +
                                 std::to_string(s.tries));
  (void)now;
  std::weak_ptr<ScriptedFlow*> weak = self_;
  host_.dial(std::move(request), [weak, generation](const DialResult& r) {
    auto self = weak.lock();
    if (self) (*self)->on_dial_result(generation, r);
  });
}

void ScriptedFlow::on_dial_result(uint64_t generation, const DialResult& r) {
  if (ended_ || generation != leg_generation_ || step().type != StepType::kDial ||
      phase_ != Phase::kDialling) {
    // Nobody waits for this call any more (the caller hung up, max_duration, ...).
    if (r.answered() && !r.leg_id.empty()) host_.hang_up_leg(r.leg_id);
    return;
  }
  const StepSpec& s = step();
  host_.record_event("dial_result", r.outcome +
                                        (r.sip_status ? " " + std::to_string(r.sip_status) : "") +
                                        (r.message.empty() ? "" : " (" + r.message + ")"));
  const bool again = r.outcome == "busy" || r.outcome == "no_answer";
  if (again && dial_tries_ < s.tries) return start_dial(last_now_);
  if (r.answered() && !s.child_flow.empty()) {
    dialled_leg_ = r.leg_id;
    store(s.into, r.outcome);
    store(s.into + "_status", std::to_string(r.sip_status));
    std::weak_ptr<ScriptedFlow*> weak = self_;
    const uint64_t gen = leg_generation_;
    bool running = host_.run_flow_on(
        r.leg_id, s.child_flow, variables_,
        [weak, gen](const std::map<std::string, std::string>& slots, std::string_view ended) {
          auto self = weak.lock();
          if (self) (*self)->on_child_flow_done(gen, slots, ended);
        });
    if (running) {
      host_.record_event("child_flow", s.child_flow + " on " + r.leg_id);
      phase_ = Phase::kChildFlow;
      return;
    }
    host_.record_event("child_flow", s.child_flow + ": cannot run on " + r.leg_id);
    host_.hang_up_leg(r.leg_id);
    dialled_leg_.clear();
    DialResult failed{.outcome = "failed",
                      .sip_status = r.sip_status,
                      .leg_id = {},
                      .message = "no flow " + s.child_flow};
    if (!dial_prompt_heard_) {
      dial_pending_ = std::move(failed);
      return;
    }
    return dial_outcome(failed, last_now_);
  }
  if (r.answered()) dialled_leg_ = r.leg_id;  // ours from now on, even while the prompt plays
  if (!dial_prompt_heard_) {
    dial_pending_ = r;  // acted on when the prompt has been heard
    return;
  }
  dial_outcome(r, last_now_);
}

void ScriptedFlow::dial_outcome(const DialResult& r, MonoTime now) {
  const StepSpec& s = step();
  store(s.into, r.outcome);
  store(s.into + "_status", std::to_string(r.sip_status));
  if (r.answered()) {
    dialled_leg_ = r.leg_id;  // parked, silent, for a following bridge step
    return enter(s.next, now);
  }
  StepIndex target = s.on_failure;
  if (r.outcome == "busy" && s.on_busy != kNoStep) target = s.on_busy;
  if (r.outcome == "no_answer" && s.on_no_answer != kNoStep) target = s.on_no_answer;
  enter(target, now);
}

void ScriptedFlow::on_child_flow_done(uint64_t generation,
                                      const std::map<std::string, std::string>& slots,
                                      std::string_view ended) {
  if (ended_ || generation != leg_generation_ || phase_ != Phase::kChildFlow) return;
  const StepSpec& s = step();
  host_.record_event("child_flow_ended", s.child_flow + ": " + std::string(ended));
  dialled_leg_.clear();  // its leg is over
  // The child's slots join ours (its `caller` is the dialled leg's, not our caller).
  size_t merged = 0;
  for (const auto& [name, value] : slots) {
    if (name == "caller" || name.empty() || name.size() > LoadLimits::kMaxNameChars) continue;
    if (++merged > kMaxInputs) break;
    std::string v = cut_value(value, kMaxInputChars);
    auto it = variables_.find(name);
    if (it == variables_.end() || it->second != v) store(name, std::move(v));
  }
  enter(s.next, last_now_);
}

// ---- bridge --------------------------------------------------------------------------

void ScriptedFlow::start_bridge(MonoTime now) {
  const StepSpec& s = step();
  if (dialled_leg_.empty()) {
    host_.record_event("bridge_failed", "no answered leg");
    return enter(s.on_failure, now);
  }
  const bool keep_flow = s.next != kNoStep;
  const uint64_t generation = leg_generation_;
  std::weak_ptr<ScriptedFlow*> weak = self_;
  host_.record_event("bridge", dialled_leg_);
  bool ok = host_.bridge(dialled_leg_, keep_flow, [weak, generation](std::string_view who) {
    auto self = weak.lock();
    if (self) (*self)->on_bridge_ended(generation, who);
  });
  if (!ok) {
    host_.record_event("bridge_failed", "refused");
    return enter(s.on_failure, now);
  }
  bridged_ = true;
  phase_ = Phase::kBridged;
  if (keep_flow) return;
  // Without `next` this flow is over: the session lets it go once the bridge is up (the
  // host and this object live until a later turn; the leg is no longer ours to touch).
  ended_ = true;
  player_.abandon();
  host_.record_event("counts", "no_input=" + std::to_string(no_input_count_) +
                                   " invalid=" + std::to_string(invalid_count_));
  host_.record_digits(digit_log_);
  finish_flow();
}

void ScriptedFlow::on_bridge_ended(uint64_t generation, std::string_view who) {
  if (ended_ || generation != leg_generation_ || phase_ != Phase::kBridged) return;
  bridged_ = false;
  dialled_leg_.clear();
  host_.record_event("bridge_ended", who);
  if (who == "caller") return;  // the call is over; nothing comes back
  phase_ = Phase::kResuming;    // `next` at the next frame, with that frame's time
}

// ---- transfer ------------------------------------------------------------------------

void ScriptedFlow::start_transfer(MonoTime now) {
  const StepSpec& s = step();
  std::string to = fill_raw(s.to);
  if (to.empty()) {
    host_.record_event("transfer_failed", "(nothing to transfer to: " + s.to + " is empty)");
    store("transfer_status", "0");
    return enter(s.on_failure, now);
  }
  host_.record_event("transfer", to);
  phase_ = Phase::kTransferring;
  const uint64_t generation = leg_generation_;
  std::weak_ptr<ScriptedFlow*> weak = self_;
  host_.transfer(to, [weak, generation](int status) {
    auto self = weak.lock();
    if (self) (*self)->on_transfer_result(generation, status);
  });
}

void ScriptedFlow::on_transfer_result(uint64_t generation, int status) {
  if (ended_ || generation != leg_generation_ || phase_ != Phase::kTransferring) return;
  store("transfer_status", std::to_string(status));
  if (status >= 200 && status < 300) {
    // Transferred: the session hangs up our leg; this flow is done.
    ended_ = true;
    ++leg_generation_;
    player_.stop();
    drop_dialled_leg();
    host_.record_event("hangup", "flow: transferred");
    host_.record_event("counts", "no_input=" + std::to_string(no_input_count_) +
                                     " invalid=" + std::to_string(invalid_count_));
    host_.record_digits(digit_log_);
    finish_flow();
    return;
  }
  host_.record_event("transfer_failed", std::to_string(status));
  enter(step().on_failure, last_now_);
}

}  // namespace atende::flow
