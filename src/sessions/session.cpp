#include "sessions/session.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "sessions/leg_host.h"
#include "store/call_store.h"

namespace atende::sessions {
namespace {

store::WallTime wall_now() { return std::chrono::system_clock::now(); }

// A dialled leg that ended before it was answered: the outcome a flow branches on.
std::string dial_outcome(const std::string& reason) {
  static const char* known[] = {"busy",        "no_answer", "rejected", "unreachable",
                                "auth_failed", "cancelled", "failed"};
  for (const char* k : known) {
    if (reason == k) return k;
  }
  if (reason == "shutdown" || reason == "local_bye") return "cancelled";
  return "failed";
}

}  // namespace

Session::Session(SessionServices& services, std::string id, std::string flow,
                 std::map<std::string, std::string> variables)
    : services_(services),
      id_(std::move(id)),
      flow_(std::move(flow)),
      variables_(std::move(variables)) {
  summary_.id = id_;
  summary_.flow = flow_;
  summary_.state = "ringing";
  summary_.started_at = wall_now();
}

Session::~Session() {
  if (recording_ && !slots_.empty()) stop_recording(*slots_.front());
  // Flows first: they hold references to their hosts.
  bridge_.reset();
  parked_driver_.reset();
  retired_.clear();
  for (auto& s : slots_) {
    if (s->host) s->host->end();
    s->flow.reset();
  }
}

SessionSummary Session::summary() const {
  std::lock_guard lock(summary_mu_);
  return summary_;
}

void Session::run(std::function<void()> fn) {
  if (Executor* e = executor_.load())
    e->post([self = shared_from_this(), fn = std::move(fn)] { fn(); });
  else
    fn();
}

Session::Slot* Session::find(const std::string& leg_id) {
  for (auto& s : slots_) {
    if (s->info.id == leg_id) return s.get();
  }
  return nullptr;
}

void Session::add_leg(LegInfo info, std::string state) {
  auto slot = std::make_unique<Slot>();
  slot->info = std::move(info);
  slot->state = std::move(state);
  {
    std::lock_guard lock(summary_mu_);
    summary_.legs.push_back({slot->info.id, slot->info.kind, to_string(slot->info.direction),
                             slot->info.from, slot->info.to, slot->state});
  }
  slots_.push_back(std::move(slot));
}

void Session::set_state(Slot& slot, std::string state) {
  slot.state = std::move(state);
  std::lock_guard lock(summary_mu_);
  for (auto& l : summary_.legs) {
    if (l.id == slot.info.id) l.state = slot.state;
  }
  if (finished_)
    summary_.state = "ended";
  else if (bridge_)
    summary_.state = "bridged";
  else if (!slots_.empty() && slots_.front()->state == "answered")
    summary_.state = "answered";
}

void Session::leg_ringing(const std::string& leg_id) {
  Slot* s = find(leg_id);
  if (s && s->state == "dialling") set_state(*s, "ringing");
}

bool Session::start_flow(Slot& slot, const std::string& flow,
                         std::map<std::string, std::string> vars) {
  flow::CallInfo info{slot.info.id, slot.info.from, slot.info.to, flow, std::move(vars)};
  slot.host = std::make_unique<LegHost>(*this, *slot.leg, std::move(info), services_);
  slot.flow = services_.make_flow(flow, *slot.host);
  if (!slot.flow) {
    spdlog::warn("call={} session={} no flow or persona named '{}'", slot.info.id, id_, flow);
    return false;
  }
  slot.leg->set_listener(slot.flow.get());
  slot.flow->start(MonoClock::now());
  return true;
}

void Session::end_flow(Slot& slot) {
  // The flow may be on the stack (it is the one asking): destroy it on a later turn.
  if (slot.host) slot.host->end();
  if (slot.leg && slot.flow) slot.leg->set_listener(nullptr);
  if (slot.flow) retired_.push_back(std::move(slot.flow));
  if (slot.host) retired_hosts_.push_back(std::move(slot.host));
  if (Executor* e = executor_.load()) {
    e->post([self = shared_from_this()] {
      self->retired_.clear();
      self->retired_hosts_.clear();
    });
  }
}

namespace {

// Early media of a dialled leg played to the leg that dialled it (one way: the callee has
// not answered, so it hears nothing of ours).
class EarlyMediaToDialler final : public LegListener {
 public:
  explicit EarlyMediaToDialler(Leg& dialler) : dialler_(dialler) {}
  void on_frame(const AudioFrame& heard, MonoTime) override {
    if (heard.sample_rate == dialler_.sample_rate()) dialler_.play_frame(heard);
  }
  void on_dtmf(char, MonoTime) override {}
  void on_hangup(std::string_view) override {}

 private:
  Leg& dialler_;
};

}  // namespace

void Session::leg_early(std::shared_ptr<Leg> leg) {
  Slot* s = find(leg->info().id);
  if (!s || s->state == "ended" || s->leg) return;
  s->leg = std::move(leg);
  if (!s->early_media) return;  // kept, unstarted, until the answer
  Slot* d = find(s->dialler);
  if (!d || !d->leg || d->state != "answered") return;
  s->early = std::make_unique<EarlyMediaToDialler>(*d->leg);
  s->leg->set_listener(s->early.get());
  s->leg->start();
  services_.store().add_event(s->info.id, wall_now(), "early_media", "to " + d->info.id);
}

void Session::leg_up(std::shared_ptr<Leg> leg) {
  Slot* s = find(leg->info().id);
  if (!s || s->state == "ended") {
    leg->hangup("session: leg no longer wanted");
    return;
  }
  if (!executor_.load()) executor_.store(&leg->executor());
  if (s->early_inbound && s->leg == leg) {
    // The answer after early media: the leg runs and its flow drives it already.
    s->early_inbound = false;
    set_state(*s, "answered");
    start_recording(*s);
    services_.emit("call.answered", id_, {{"flow", flow_}, {"leg", s->info.id}});
    return;
  }
  s->leg = std::move(leg);
  if (s->early) {
    s->leg->set_listener(nullptr);  // answered: early media is over, the leg is parked
    s->early.reset();
  }
  set_state(*s, "answered");
  if (s == slots_.front().get()) start_recording(*s);  // from the first tick
  s->leg->start();
  if (s == slots_.front().get()) {
    services_.emit("call.answered", id_, {{"flow", flow_}, {"leg", s->info.id}});
    if (!start_flow(*s, flow_, variables_)) s->leg->hangup("no flow");
    return;
  }
  // A dialled leg: parked (heard by nobody, silent) until its dialler decides.
  if (auto done = std::move(s->on_dial)) {
    s->on_dial = nullptr;
    done(flow::DialResult{.outcome = "answered", .leg_id = s->info.id});
  }
}

void Session::leg_early_inbound(std::shared_ptr<Leg> leg) {
  Slot* s = find(leg->info().id);
  if (!s || s->state == "ended" || s->leg || s != slots_.front().get()) {
    leg->hangup("session: leg no longer wanted");
    return;
  }
  if (!executor_.load()) executor_.store(&leg->executor());
  s->leg = std::move(leg);
  s->early_inbound = true;  // the slot still says "ringing": the call is not answered
  s->leg->start();
  if (!start_flow(*s, flow_, variables_)) s->leg->hangup("no flow");
}

void Session::leg_ended(const std::string& leg_id, const std::string& reason, int sip_status) {
  Slot* s = find(leg_id);
  if (!s || s->state == "ended") return;
  const bool primary_leg = s == slots_.front().get();
  set_state(*s, "ended");
  if (primary_leg) stop_recording(*s);
  if (primary_leg && parked_driver_) {
    // The caller hung up while bridged: its flow, parked to take the caller back, hears of
    // it like any hang-up (its outcome is recorded) and ends as the slot's flow does.
    parked_driver_->on_hangup(reason);
    s->flow = std::move(parked_driver_);
  }
  if (s->early) {
    if (s->leg) s->leg->set_listener(nullptr);
    s->early.reset();
  }
  if (auto done = std::move(s->on_dial)) {
    s->on_dial = nullptr;
    done(flow::DialResult{
        .outcome = dial_outcome(reason), .sip_status = sip_status, .leg_id = leg_id});
  }
  if (auto done = std::move(s->on_transfer)) {
    s->on_transfer = nullptr;
    done(487);
  }
  if (s->flow || s->host) {
    auto slots = s->slots;
    auto done = std::move(s->on_flow_done);
    s->on_flow_done = nullptr;
    end_flow(*s);
    if (done) done(slots, reason);
  }
  if (primary_leg) {
    // The caller is gone: nothing else of this call goes on.
    parked_driver_.reset();
    for (auto& other : slots_) {
      if (other->state == "ended") continue;
      if (other->leg)
        other->leg->hangup("session: caller hung up");
      else
        services_.hang_up(other->info.id);
    }
  }
  maybe_finish();
}

void Session::start_recording(Slot& slot) {
  recording_policy_ = services_.recording_policy(flow_);
  recording::Recorder* recorder = services_.recorder();
  if (!recording_policy_.audio || !recorder || recording_) return;
  recording_ = recorder->begin(slot.info.id, slot.leg->sample_rate(), summary_.started_at);
  if (recording_) slot.leg->set_media_tap(recording_.get());
}

void Session::stop_recording(Slot& slot) {
  if (!recording_) return;
  if (slot.leg) slot.leg->set_media_tap(nullptr);
  recording_->end();  // the writer finishes the file; the record learns of it then
  recording_.reset();
}

void Session::maybe_finish() {
  if (finished_) return;
  for (auto& s : slots_) {
    if (s->state != "ended") return;
  }
  finished_ = true;
  {
    std::lock_guard lock(summary_mu_);
    summary_.state = "ended";
  }
  services_.session_finished(*this);
}

void Session::transfer_progress(const std::string& leg_id, int status) {
  Slot* s = find(leg_id);
  if (!s || status < 200) return;
  if (auto done = std::move(s->on_transfer)) {
    s->on_transfer = nullptr;
    done(status);
  }
  // Transferred: the far end talks to someone else now; our part of the call is over.
  if (status < 300 && s->leg && s->state != "ended") s->leg->hangup("transferred");
}

// ---- what flows ask ------------------------------------------------------------------

void Session::dial(const std::string& from_leg, flow::DialRequest request,
                   std::function<void(const flow::DialResult&)> done) {
  auto placed = services_.dial(*this, request, executor_.load());
  if (!placed) {
    const std::string why = placed.error().message;
    run([done = std::move(done), why] {
      done(flow::DialResult{.outcome = "failed", .message = why});
    });
    return;
  }
  Slot* s = find(placed.value());
  if (!s) return;
  s->on_dial = std::move(done);
  s->dialler = from_leg;
  s->early_media = request.early_media;
  spdlog::info("call={} session={} event=dial to={} leg={}", from_leg, id_, request.to,
               placed.value());
}

bool Session::run_flow_on(
    const std::string& leg_id, const std::string& flow, std::map<std::string, std::string> vars,
    std::function<void(const std::map<std::string, std::string>&, std::string_view)> done) {
  Slot* s = find(leg_id);
  if (!s || !s->leg || s->state != "answered" || s->flow) return false;
  if (!start_flow(*s, flow, std::move(vars))) {
    s->host.reset();
    return false;
  }
  s->on_flow_done = std::move(done);
  return true;
}

void Session::flow_finished(const std::string& leg_id,
                            const std::map<std::string, std::string>& slots) {
  if (Slot* s = find(leg_id)) s->slots = slots;
}

bool Session::bridge(const std::string& from_leg, const std::string& leg_id, bool keep_flow,
                     std::function<void(std::string_view)> done) {
  Slot* a = find(from_leg);
  Slot* b = find(leg_id);
  if (!a || !b || a == b || bridge_ || !a->leg || !b->leg || a->state != "answered" ||
      b->state != "answered" || b->flow) {
    return false;
  }
  if (&a->leg->executor() != &b->leg->executor()) {
    // Cannot happen: dialled legs are placed next to their session's first leg.
    spdlog::error("session={} bridge: legs on different workers", id_);
    return false;
  }
  if (a->flow) {
    a->leg->set_listener(nullptr);
    if (keep_flow)
      parked_driver_ = std::move(a->flow);
    else
      end_flow(*a);
  }
  bridge_keeps_flow_ = keep_flow;
  on_bridge_end_ = std::move(done);
  bridged_[0] = a->info.id;
  bridged_[1] = b->info.id;
  bridge_ = std::make_unique<Bridge>(
      *a->leg, *b->leg, [this](int side, std::string_view reason) { bridge_ended(side, reason); });
  set_state(*a, a->state);
  services_.store().add_event(a->info.id, wall_now(), "bridge", b->info.id);
  services_.store().add_event(b->info.id, wall_now(), "bridge", a->info.id);
  spdlog::info("call={} session={} event=bridged with={}", a->info.id, id_, b->info.id);
  return true;
}

void Session::bridge_ended(int side, std::string_view reason) {
  // Called from inside the bridge (a leg's hang-up): let it go on a later turn.
  std::shared_ptr<Bridge> gone(std::move(bridge_));
  gone->release();
  if (Executor* e = executor_.load()) e->post([gone] {});
  const std::string other = bridged_[1 - side];
  Slot* o = find(other);
  const bool caller_remains = o && o == slots_.front().get();
  if (bridge_keeps_flow_ && caller_remains && parked_driver_ && o->leg) {
    // The dialled side hung up: the caller goes back to its flow.
    o->flow = std::move(parked_driver_);
    o->leg->set_listener(o->flow.get());
    if (auto done = std::move(on_bridge_end_)) done("callee");
    return;
  }
  on_bridge_end_ = nullptr;
  if (o && o->leg && o->state != "ended") {
    o->leg->hangup(std::string("bridge: other side ended (") + std::string(reason) + ")");
  }
}

std::shared_ptr<Leg> Session::give_up_leg(const std::string& leg_id) {
  Slot* s = find(leg_id);
  if (!s || !s->leg || s->state != "answered" || bridge_) return nullptr;
  if (s->flow || s->host) end_flow(*s);
  std::shared_ptr<Leg> leg = s->leg;
  leg->set_listener(nullptr);
  const bool primary = s == slots_.front().get();
  if (primary) stop_recording(*s);  // its recording ends where this session's part does
  std::erase_if(slots_, [s](const auto& p) { return p.get() == s; });
  {
    std::lock_guard lock(summary_mu_);
    std::erase_if(summary_.legs, [&](const LegSummary& l) { return l.id == leg_id; });
  }
  services_.store().add_event(leg_id, wall_now(), "moved", "to another session's bridge");
  if (primary) {
    // Its caller went elsewhere: what this session placed for it ends.
    for (auto& other : slots_) {
      if (other->state == "ended") continue;
      if (other->leg)
        other->leg->hangup("session: its first leg moved");
      else
        services_.hang_up(other->info.id);
    }
  }
  if (slots_.empty()) {
    finished_ = true;
    {
      std::lock_guard lock(summary_mu_);
      summary_.state = "ended";
    }
    services_.session_finished(*this);
  }
  return leg;
}

bool Session::adopt_and_bridge(std::shared_ptr<Leg> leg) {
  if (slots_.empty() || finished_ || bridge_ || !slots_.front()->leg ||
      &slots_.front()->leg->executor() != &leg->executor()) {
    return false;
  }
  add_leg(leg->info(), "answered");
  Slot& s = *slots_.back();
  s.leg = std::move(leg);
  set_state(s, "answered");
  if (bridge(slots_.front()->info.id, s.info.id, false, nullptr)) return true;
  const std::string id = s.info.id;
  slots_.pop_back();
  std::lock_guard lock(summary_mu_);
  std::erase_if(summary_.legs, [&](const LegSummary& l) { return l.id == id; });
  return false;
}

void Session::hang_up_leg(const std::string& leg_id) {
  Slot* s = find(leg_id);
  if (!s || s->state == "ended") return;
  if (s->leg)
    s->leg->hangup("session: hung up by flow");
  else
    services_.hang_up(leg_id);
}

void Session::transfer(const std::string& leg_id, const std::string& to,
                       std::function<void(int)> done) {
  Slot* s = find(leg_id);
  if (!s || !s->leg || s->state != "answered") {
    run([done = std::move(done)] { done(481); });
    return;
  }
  s->on_transfer = std::move(done);
  services_.store().add_event(leg_id, wall_now(), "transfer", to);
  services_.refer_leg(leg_id, to);
}

}  // namespace atende::sessions
