#include "control/controller_driver.h"

#include <spdlog/spdlog.h>

namespace atende::control {

// The leg as a flow started by the controller sees it: everything goes to the real leg but
// the hang-up, which ends that flow's turn and gives the call back to the controller.
class ControllerDriver::ChildLeg final : public Leg {
 public:
  ChildLeg(Leg& real, ControllerDriver& driver) : real_(real), driver_(driver) {}
  const LegInfo& info() const override { return real_.info(); }
  Executor& executor() override { return real_.executor(); }
  void start() override {}                     // it is up already
  void set_listener(LegListener*) override {}  // the driver listens and forwards
  int sample_rate() const override { return real_.sample_rate(); }
  void play(ClipPtr clip) override { real_.play(std::move(clip)); }
  void play_frame(const AudioFrame& frame) override { real_.play_frame(frame); }
  void flush() override { real_.flush(); }
  bool playing() const override { return real_.playing(); }
  void send_dtmf(char digit) override { real_.send_dtmf(digit); }
  void hangup(std::string_view reason) override { driver_.child_hung_up(reason); }

 private:
  Leg& real_;
  ControllerDriver& driver_;
};

// The host of a flow the controller started: the call's own host, but with the leg above,
// the flow's own name and variables, and its record events also told to the controller.
class ControllerDriver::ChildHost final : public flow::FlowHost {
 public:
  ChildHost(flow::FlowHost& real, ControllerDriver& driver, flow::CallInfo info)
      : real_(real), driver_(driver), leg_(real.leg(), driver), info_(std::move(info)) {}
  Leg& leg() override { return leg_; }
  const flow::CallInfo& call() const override { return info_; }
  speech::PhraseSource& phrases() override { return real_.phrases(); }
  speech::Recognizer& recognizer() override { return real_.recognizer(); }
  void post(std::function<void()> fn) override {
    real_.post([alive = alive_, fn = std::move(fn)] {
      if (*alive) fn();
    });
  }
  void record_event(std::string_view kind, std::string_view detail) override {
    real_.record_event(kind, detail);
    if (driver_.channel_) {
      driver_.channel_->push_event({.type = "flow_event",
                                    .text = std::string(detail),
                                    .data = {{"kind", std::string(kind)}}});
    }
  }
  void record_digits(std::string_view digits) override { real_.record_digits(digits); }
  void dial(flow::DialRequest r, std::function<void(const flow::DialResult&)> done) override {
    real_.dial(std::move(r), std::move(done));
  }
  bool run_flow_on(const std::string& leg_id, const std::string& flow,
                   std::map<std::string, std::string> vars,
                   std::function<void(const std::map<std::string, std::string>&, std::string_view)>
                       done) override {
    return real_.run_flow_on(leg_id, flow, std::move(vars), std::move(done));
  }
  bool bridge(const std::string& leg_id, bool keep_flow,
              std::function<void(std::string_view)> done) override {
    return real_.bridge(leg_id, keep_flow, std::move(done));
  }
  void hang_up_leg(const std::string& leg_id) override { real_.hang_up_leg(leg_id); }
  void transfer(const std::string& to, std::function<void(int)> done) override {
    real_.transfer(to, std::move(done));
  }
  void flow_finished(const std::map<std::string, std::string>& slots) override {
    slots_ = slots;
    real_.flow_finished(slots);
  }
  void keep_clip(const std::string& name, ClipPtr clip) override {
    real_.keep_clip(name, std::move(clip));
  }
  ClipPtr clip(const std::string& name) const override { return real_.clip(name); }

  void end() { *alive_ = false; }
  const std::map<std::string, std::string>& slots() const { return slots_; }

 private:
  flow::FlowHost& real_;
  ControllerDriver& driver_;
  ChildLeg leg_;
  flow::CallInfo info_;
  std::map<std::string, std::string> slots_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

ControllerDriver::ControllerDriver(flow::FlowHost& host, DriverDeps deps)
    : host_(host),
      deps_(std::move(deps)),
      ear_({.turn = {.sample_rate = host.leg().sample_rate(), .max_utterance = Millis(10000)}},
           std::make_unique<audio::EnergyVad>(
               audio::EnergyVadOptions{.sample_rate = host.leg().sample_rate()}),
           host.leg().executor().timers(), *this) {
  commands_.reserve(ControllerChannel::kMaxCommands);
}

ControllerDriver::~ControllerDriver() {
  *alive_ = false;
  child_.reset();
  retired_.clear();
  if (channel_) {
    // Not ended by a hang-up: the call left this driver (bridged into another call).
    channel_->end("released");
    if (deps_.hub) deps_.hub->remove(channel_->facts().call_id);
  }
}

void ControllerDriver::start(MonoTime now) {
  started_ = now;
  const auto& call = host_.call();
  const auto& info = host_.leg().info();
  // A channel exists already for a call placed with Dial, and for one held ringing until
  // its controller answered it (ControllerHub::ringing).
  const auto known = deps_.hub ? deps_.hub->find(call.id) : nullptr;
  const bool answered_by_controller = known && known->was_held();
  const bool placed_by_dial = known && !answered_by_controller;
  channel_ = deps_.hub ? deps_.hub->open({.call_id = call.id,
                                          .from = info.from,
                                          .to = info.to,
                                          .direction = to_string(info.direction)})
                       : nullptr;
  if (!channel_) {
    hang_up("no_controller");
    return;
  }
  channel_->set_sample_rate(host_.leg().sample_rate());
  if (known && known->early_media() && known->ringing()) {
    // Early media (Progress): still ringing; Answer says "answered" (grpc_service.cpp).
    channel_->push_event({.type = "early_media", .sample_rate = host_.leg().sample_rate()});
    host_.record_event("controller", "early media for its controller");
    return;
  }
  channel_->set_ringing(false);
  channel_->push_event({.type = "answered", .sample_rate = host_.leg().sample_rate()});
  host_.record_event("controller", answered_by_controller ? "answered by its controller"
                                   : placed_by_dial       ? "waiting for its controller"
                                                          : "parked for a controller");
  if (!known) deps_.hub->park(channel_);
}

void ControllerDriver::hang_up(const std::string& reason) {
  if (ended_) return;
  ended_ = true;
  if (child_) {
    if (child_host_) child_host_->end();
    retired_.push_back(std::move(child_));
    retired_hosts_.push_back(std::move(child_host_));
  }
  host_.record_event("hangup", reason);
  if (deps_.note_end_reason) deps_.note_end_reason(host_.call().id, reason);
  if (channel_) channel_->end(reason);
  host_.leg().hangup(reason);
}

void ControllerDriver::on_frame(const AudioFrame& heard, MonoTime now) {
  if (ended_ || !channel_) return;
  if (!retired_.empty() || !retired_hosts_.empty()) {
    // A later turn than the one they ended on: nothing of theirs is on the stack now.
    retired_.clear();
    retired_hosts_.clear();
  }
  const bool attached = channel_->attached();
  if (attached && !was_attached_) {
    was_attached_ = true;
    host_.record_event("controller", "attached");
  } else if (!attached && was_attached_) {
    was_attached_ = false;
    const std::string why = channel_->detach_reason();
    host_.record_event("controller", "detached: " + why);
    spdlog::info("call={} event=controller_detached mode={} why=\"{}\"", host_.call().id,
                 mode_ == Mode::kControl ? "control" : "watch", why);
    if (mode_ == Mode::kControl) return hang_up("controller_gone");
  } else if (!attached && !channel_->ever_attached() && now - started_ > deps_.park_timeout) {
    return hang_up("no_controller");
  } else if (!attached && channel_->ever_attached() && mode_ == Mode::kControl) {
    // It answered the call and went before our first tick saw it attached.
    host_.record_event("controller", "detached: " + channel_->detach_reason());
    return hang_up("controller_gone");
  }

  run_commands(now);
  if (ended_) return;
  ear_.on_frame(heard, now);

  if (mode_ == Mode::kWatch && child_) {
    child_->on_frame(heard, now);
    return;
  }
  if (!attached) return;  // parked: the caller hears silence until a controller comes
  channel_->push_frame(heard);
  // After a gap, wait until kJitterFrames are queued before playing again: frames that come
  // in bursts then play evenly instead of as a stutter of single frames and gaps.
  if (!channel_->pop_frame(from_controller_, refilling_ ? kJitterFrames : 1)) {
    refilling_ = true;
    return;
  }
  refilling_ = false;
  if (from_controller_.sample_rate == host_.leg().sample_rate()) {
    host_.leg().play_frame(from_controller_);
  }
}

void ControllerDriver::on_speech_started(const turn::TurnEvent&, MonoTime) {
  if (!ended_) channel_->push_event({.type = "speech_started"});
}

void ControllerDriver::on_end_of_turn(const turn::TurnEvent&, MonoTime) {
  if (!ended_) channel_->push_event({.type = "speech_stopped"});
}

void ControllerDriver::run_commands(MonoTime now) {
  commands_.clear();
  channel_->take_commands(commands_);
  for (auto& c : commands_) {
    if (ended_) return;
    using K = ControllerCommand::Kind;
    switch (c.kind) {
      case K::kAnswer:
        // Inbound calls reach a controller answered (docs/grpc.md "Answer"): say so again.
        channel_->push_event({.type = "answered", .sample_rate = host_.leg().sample_rate()});
        break;
      case K::kPlay:
        if (mode_ == Mode::kControl) {
          clip_queued_ = true;
          host_.leg().play(c.clip);
        }
        break;
      case K::kSay:
        if (mode_ == Mode::kControl) say(c.text, c.voice);
        break;
      case K::kDtmf:
        for (char d : c.text) host_.leg().send_dtmf(d);
        host_.record_event("dtmf_sent", c.text);
        break;
      case K::kFlush:
        host_.leg().flush();
        break;
      case K::kStartFlow:
      case K::kStartAgent:
        start_child(c.text, std::move(c.variables), now);
        break;
      case K::kHangup:
        host_.record_event("controller", "hung up");
        return hang_up("controller_hangup");
    }
  }
}

void ControllerDriver::say(const std::string& text, const std::string& voice) {
  speech::Phrase phrase;
  phrase.text = text;
  phrase.sample_rate = host_.leg().sample_rate();
  if (!voice.empty()) phrase.voice.name = voice;
  clip_queued_ = true;
  if (ClipPtr clip = host_.phrases().cached(phrase)) {
    host_.leg().play(clip);
    return;
  }
  // Synthesised on a speech worker; played on this thread if the call is still ours then.
  host_.phrases().fetch(phrase, [this, alive = alive_, text](ClipPtr clip) {
    host_.post([this, alive, clip, text] {
      if (!*alive || ended_) return;
      if (!clip) {
        channel_->push_event({.type = "error", .text = "could not synthesise: " + text});
        return;
      }
      if (mode_ == Mode::kControl) host_.leg().play(clip);
    });
  });
}

void ControllerDriver::start_child(const std::string& name, std::map<std::string, std::string> vars,
                                   MonoTime now) {
  if (child_) {
    channel_->push_event({.type = "error", .text = "a flow runs already: " + child_name_});
    return;
  }
  auto info = host_.call();
  info.flow = name;
  for (auto& [k, v] : vars) info.variables[k] = v;
  auto host = std::make_unique<ChildHost>(host_, *this, std::move(info));
  auto flow = deps_.make_flow ? deps_.make_flow(name, *host) : nullptr;
  if (!flow) {
    channel_->push_event(
        {.type = "flow_ended", .reason = "unknown flow or persona '" + name + "'"});
    return;
  }
  host_.leg().flush();
  from_controller_ = AudioFrame::silence(host_.leg().sample_rate());
  child_host_ = std::move(host);
  child_ = std::move(flow);
  child_name_ = name;
  mode_ = Mode::kWatch;
  host_.record_event("controller", "started " + name);
  channel_->push_event({.type = "flow_started", .text = name});
  child_->start(now);
}

void ControllerDriver::child_hung_up(std::string_view reason) {
  if (ended_ || !child_) return;
  const std::string why(reason);
  const auto slots = child_host_ ? child_host_->slots() : std::map<std::string, std::string>{};
  // The child is on the stack (it is the one hanging up): destroyed on a later tick.
  child_host_->end();
  retired_.push_back(std::move(child_));
  retired_hosts_.push_back(std::move(child_host_));
  mode_ = Mode::kControl;
  host_.record_event("controller", "flow " + child_name_ + " ended: " + why);
  if (channel_ && channel_->attached()) {
    channel_->push_event({.type = "flow_ended", .text = child_name_, .reason = why, .data = slots});
    return;
  }
  // Nobody to give the call back to: it ends as the flow wanted.
  ended_ = true;
  if (channel_) channel_->end(why);
  host_.leg().hangup(why);
}

void ControllerDriver::on_dtmf(char digit, MonoTime now) {
  if (ended_) return;
  if (channel_) channel_->push_event({.type = "dtmf", .digit = std::string(1, digit)});
  if (digits_.size() < 64 && !(mode_ == Mode::kWatch && child_)) {
    digits_.push_back(digit);  // a flow the controller started records its own
    host_.record_digits(digits_);
  }
  if (mode_ == Mode::kWatch && child_) child_->on_dtmf(digit, now);
}

void ControllerDriver::on_playout_idle(MonoTime now) {
  if (ended_) return;
  if (mode_ == Mode::kWatch && child_) {
    child_->on_playout_idle(now);
  } else if (channel_ && clip_queued_) {
    // Only for Play / Say: the controller's own live frames go idle every frame it skips.
    clip_queued_ = false;
    channel_->push_event({.type = "playout_idle"});
  }
}

void ControllerDriver::on_hangup(std::string_view reason) {
  if (ended_) return;
  ended_ = true;
  if (child_) child_->on_hangup(reason);
  if (channel_) channel_->end(std::string(reason));
}

}  // namespace atende::control
