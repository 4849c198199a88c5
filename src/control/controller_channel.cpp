#include "control/controller_channel.h"

namespace atende::control {

ControllerChannel::ControllerChannel(CallFacts facts, ChannelMetrics metrics)
    : facts_(std::move(facts)), metrics_(metrics) {}

bool ControllerChannel::attach(bool* ended) {
  std::lock_guard lock(mu_);
  if (ended) *ended = ended_;
  if (attached_ || ended_) return false;
  attached_ = true;
  ever_attached_ = true;
  woken_ = false;
  detach_reason_.clear();
  to_controller_.clear();
  from_controller_.clear();
  return true;
}

void ControllerChannel::detach(const std::string& reason) {
  std::lock_guard lock(mu_);
  if (!attached_) return;
  attached_ = false;
  detach_reason_ = reason;
  to_controller_.clear();
  from_controller_.clear();
  commands_.clear();
}

void ControllerChannel::push_audio(const AudioFrame& frame) {
  std::lock_guard lock(mu_);
  if (!attached_ || ended_) return;
  if (!from_controller_.push(frame) && metrics_.dropped_from_controller) {
    metrics_.dropped_from_controller->inc();
  }
}

bool ControllerChannel::command(ControllerCommand cmd) {
  std::lock_guard lock(mu_);
  if (commands_.size() >= kMaxCommands) return false;
  commands_.push_back(std::move(cmd));
  return true;
}

Outgoing ControllerChannel::next_out(std::chrono::milliseconds wait, bool* closed) {
  std::unique_lock lock(mu_);
  auto ready = [this] { return !events_.empty() || !to_controller_.empty() || ended_ || woken_; };
  cv_.wait_for(lock, wait, ready);
  Outgoing out;
  // Events first: a hang-up or a key press must not wait behind a second of audio.
  if (!events_.empty()) {
    out.kind = Outgoing::Kind::kEvent;
    out.event = std::move(events_.front());
    events_.pop_front();
  } else if (to_controller_.dropped() > reported_drops_ + 49) {
    // The controller reads slower than real time: tell it (at most once a second of loss).
    reported_drops_ = to_controller_.dropped();
    out.kind = Outgoing::Kind::kEvent;
    out.event.type = "frames_dropped";
    out.event.count = reported_drops_;
  } else if (to_controller_.pop(out.frame)) {
    out.kind = Outgoing::Kind::kAudio;
  }
  if (closed) *closed = out.kind == Outgoing::Kind::kNone && (ended_ || woken_);
  return out;
}

void ControllerChannel::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

bool ControllerChannel::attached() const {
  std::lock_guard lock(mu_);
  return attached_;
}

bool ControllerChannel::ever_attached() const {
  std::lock_guard lock(mu_);
  return ever_attached_;
}

std::string ControllerChannel::detach_reason() const {
  std::lock_guard lock(mu_);
  return detach_reason_;
}

void ControllerChannel::push_frame(const AudioFrame& heard) {
  {
    std::lock_guard lock(mu_);
    if (!attached_ || ended_) return;
    if (!to_controller_.push(heard) && metrics_.dropped_to_controller) {
      metrics_.dropped_to_controller->inc();
    }
  }
  cv_.notify_one();
}

bool ControllerChannel::pop_frame(AudioFrame& out, size_t min_queued) {
  std::lock_guard lock(mu_);
  if (from_controller_.size() < min_queued) return false;
  return from_controller_.pop(out);
}

void ControllerChannel::push_event(ControllerEvent ev) {
  {
    std::lock_guard lock(mu_);
    if (ended_) return;
    // Kept while no stream holds the call too (a Dial's "ringing" before the Attach), up
    // to the bound; the oldest go first.
    if (events_.size() >= kMaxEvents) events_.pop_front();
    events_.push_back(std::move(ev));
  }
  cv_.notify_one();
}

void ControllerChannel::take_commands(std::vector<ControllerCommand>& out) {
  std::lock_guard lock(mu_);
  while (!commands_.empty()) {
    out.push_back(std::move(commands_.front()));
    commands_.pop_front();
  }
}

void ControllerChannel::end(const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    if (ended_) return;
    if (events_.size() >= kMaxEvents) events_.pop_front();
    ControllerEvent ev;
    ev.type = "hangup";
    ev.reason = reason;
    events_.push_back(std::move(ev));
    to_controller_.clear();  // the hang-up is the last thing the controller hears
    ended_ = true;
  }
  cv_.notify_all();
}

bool ControllerChannel::ended() const {
  std::lock_guard lock(mu_);
  return ended_;
}

}  // namespace atende::control
