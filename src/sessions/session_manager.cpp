#include "sessions/session_manager.h"

#include <spdlog/spdlog.h>

#include "agent/agent_turn.h"
#include "core/call_id.h"
#include "flow/template_text.h"
#include "sessions/agent_turns.h"

namespace atende::sessions {
namespace {

store::WallTime wall_now() { return std::chrono::system_clock::now(); }

constexpr size_t kMaxTranscriptTurns = 200;

// "{customer_name}" in a persona's prompt and greeting, from the call's variables; other
// placeholders are left as written.
std::string fill_variables(const std::string& text,
                           const std::map<std::string, std::string>& vars) {
  if (vars.empty() || text.find('{') == std::string::npos) return text;
  return flow::fill_template(text, [&vars](std::string_view name, std::string* value) {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return false;
    *value = it->second;
    return true;
  });
}

}  // namespace

SessionManager::SessionManager(SessionOptions options, store::CallStore& store,
                               flow::FlowLibrary& flows, speech::PhraseSource& phrases,
                               speech::Recognizer* recognizer, CoreMetrics& metrics,
                               DialPlan dial_plan)
    : options_(options),
      store_(store),
      flows_(flows),
      phrases_(phrases),
      recognizer_(recognizer),
      metrics_(metrics),
      dial_plan_(std::move(dial_plan)) {}

SessionManager::~SessionManager() = default;

size_t SessionManager::active_legs() const {
  std::lock_guard lock(mu_);
  return live_legs_;
}

bool SessionManager::known_flow(const std::string& name) const {
  if (drivers_.count(name)) return true;
  if (personas_ && agents_ && personas_->resolve(name)) return true;
  return flows_.find(name) != nullptr;
}

// ---- front-ends -------------------------------------------------------------------------

Admission SessionManager::admit(const InboundRequest& r) const {
  Admission a;
  if (!r.flow.empty()) {
    a.flow = r.flow;
  } else if (auto planned = dial_plan_.inbound(r.user)) {
    a.flow = *planned;
  } else if (const agent::Persona* p =
                 personas_ && agents_ ? personas_->resolve(r.user) : nullptr) {
    a.flow = p->name;
  } else {
    a.flow = flows_.resolve(r.user);
  }
  if (const agent::Persona* p = personas_ && agents_ ? personas_->resolve(a.flow) : nullptr) {
    a.flow = p->name;  // a dialplan entry may name a persona by alias
    a.persona = true;
  }
  if (draining_) {
    a.status = 503;
    a.phrase = "Service Unavailable";
  } else if (active_legs() >= static_cast<size_t>(options_.max_calls)) {
    a.status = 486;
    a.phrase = "Busy Here";
  } else if (a.flow.empty() || !known_flow(a.flow)) {
    a.status = 404;
    a.phrase = "No Flow";
  } else if (!store_.admit_new_call(store::AdmitVia::kSip)) {
    // The store is behind: a new call now could only be recorded by dropping the writes of
    // calls that are up (docs/security.md "No record lost"). Counted and logged by the store.
    a.status = 503;
    a.phrase = "Service Unavailable";
  } else {
    a.ok = true;
    if (auto spec = flows_.find(a.flow)) a.rtp_timeout = spec->rtp_timeout;
    if (auto hold = holds_.find(a.flow); hold != holds_.end() && r.can_hold) {
      a.hold = hold->second.timeout;
    }
  }
  return a;
}

void SessionManager::reject(const InboundRequest& r, const std::string& flow, int status,
                            const std::string& phrase) {
  metrics_.calls_rejected.inc();
  // One row, written only while the store keeps up: when it is behind, refusals are
  // counted and tallied in the store's periodic log line, not written or logged one by one.
  const bool recorded = store_.call_rejected({.id = r.call_id,
                                              .direction = store::CallDirection::kInbound,
                                              .from = r.from,
                                              .to = r.to,
                                              .leg_kind = r.kind,
                                              .flow = flow,
                                              .at = wall_now()},
                                             "rejected: " + phrase, status);
  if (recorded) {
    spdlog::info("call={} event=rejected status={} reason=\"{}\" from={}", r.call_id, status,
                 phrase, r.from);
  }
}

void SessionManager::open_inbound(const InboundRequest& r, const Admission& a, Executor* executor) {
  auto session = std::make_shared<Session>(*this, r.call_id, a.flow, r.variables);
  session->add_leg(LegInfo{r.call_id, r.kind, LegDirection::kInbound, r.from, r.to}, "ringing");
  if (executor) session->bind_executor(executor);
  store_.call_started({.id = r.call_id,
                       .direction = store::CallDirection::kInbound,
                       .from = r.from,
                       .to = r.to,
                       .leg_kind = r.kind,
                       .flow = a.flow,
                       .at = wall_now(),
                       .session_id = r.call_id});
  {
    std::lock_guard lock(mu_);
    sessions_.emplace(r.call_id, session);
    legs_.emplace(r.call_id,
                  LegEntry{.session = session, .inbound = true, .held = a.hold.count() > 0});
    ++live_legs_;
  }
  metrics_.active_calls.inc();
  emit("call.started", r.call_id,
       {{"direction", "inbound"}, {"from", r.from}, {"to", r.to}, {"flow", a.flow}});
  if (a.hold.count() > 0) {
    if (auto hold = holds_.find(a.flow); hold != holds_.end() && hold->second.on_held) {
      hold->second.on_held({.call_id = r.call_id, .from = r.from, .to = r.to});
    }
  }
}

bool SessionManager::take_held(const std::string& call_id, ControlError* error) {
  std::lock_guard lock(mu_);
  auto it = legs_.find(call_id);
  if (it == legs_.end()) {
    *error = {ControlErrc::kNotFound, "no such call"};
    return false;
  }
  if (it->second.ended || !it->second.held) {
    *error = {ControlErrc::kConflict,
              it->second.ended ? "the call has ended" : "the call is not ringing"};
    return false;
  }
  it->second.held = false;  // one decision per call
  return true;
}

ControlResult<Done> SessionManager::answer(const std::string& call_id) {
  ControlError error;
  if (!take_held(call_id, &error)) return error;
  store_.add_event(call_id, wall_now(), "answer", "by its controller");
  if (dialer_) dialer_->answer_held(call_id);
  return Done{};
}

ControlResult<Done> SessionManager::reject(const std::string& call_id, int status,
                                           const std::string& reason) {
  if (status < 400 || status > 699) {
    return ControlError{ControlErrc::kInvalid, "a final status is 400..699"};
  }
  ControlError error;
  if (!take_held(call_id, &error)) return error;
  store_.add_event(call_id, wall_now(), "reject", std::to_string(status) + " " + reason);
  if (dialer_) dialer_->reject_held(call_id, status, reason);
  return Done{};
}

ControlResult<Done> SessionManager::progress(const std::string& call_id) {
  {
    std::lock_guard lock(mu_);
    auto it = legs_.find(call_id);
    if (it == legs_.end()) return ControlError{ControlErrc::kNotFound, "no such call"};
    if (it->second.ended || !it->second.held) {
      return ControlError{ControlErrc::kConflict,
                          it->second.ended ? "the call has ended" : "the call is not ringing"};
    }
    if (it->second.early) {
      return ControlError{ControlErrc::kConflict, "early media has started already"};
    }
    it->second.early = true;
  }
  if (!dialer_ || !dialer_->progress_held(call_id)) {
    std::lock_guard lock(mu_);
    if (auto it = legs_.find(call_id); it != legs_.end()) it->second.early = false;
    return ControlError{ControlErrc::kConflict,
                        "no early media for this call (its INVITE had no SDP to answer)"};
  }
  store_.add_event(call_id, wall_now(), "early_media", "183 by its controller");
  return Done{};
}

std::shared_ptr<Session> SessionManager::session_of_leg(const std::string& leg_id) const {
  std::lock_guard lock(mu_);
  auto it = legs_.find(leg_id);
  return it == legs_.end() ? nullptr : it->second.session;
}

void SessionManager::leg_answered(std::shared_ptr<Leg> leg, const std::string& media_note) {
  const LegInfo& info = leg->info();
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mu_);
    auto it = legs_.find(info.id);
    if (it == legs_.end() || it->second.ended) {
      session = nullptr;
    } else {
      it->second.answered = true;
      session = it->second.session;
    }
  }
  if (!session) {
    leg->hangup("no session");
    return;
  }
  const auto now = wall_now();
  store_.call_answered(info.id, now);
  store_.add_event(info.id, now, "answered", media_note);
  metrics_.calls_answered.inc();
  spdlog::info("call={} event=answered direction={} from={} to={} session={} {}", info.id,
               to_string(info.direction), info.from, info.to, session->id(), media_note);
  // A leg's work runs on its own executor (for an outbound call, the first one it has).
  session->bind_executor(&leg->executor());
  leg->executor().post([session, leg] { session->leg_up(leg); });
}

void SessionManager::leg_progress(const std::string& leg_id, int status) {
  auto session = session_of_leg(leg_id);
  if (!session) return;
  store_.add_event(leg_id, wall_now(), "progress", std::to_string(status));
  if (progress_observer_) progress_observer_(leg_id, status);
  session->run([session, leg_id] { session->leg_ringing(leg_id); });
}

void SessionManager::leg_early(std::shared_ptr<Leg> leg) {
  auto session = session_of_leg(leg->info().id);
  if (!session) return;
  // A call the API placed has no executor before this: its media's is the session's now.
  if (!session->executor()) session->bind_executor(&leg->executor());
  leg->executor().post([session, leg] { session->leg_early(leg); });
}

void SessionManager::leg_early_inbound(std::shared_ptr<Leg> leg) {
  auto session = session_of_leg(leg->info().id);
  if (!session) return;
  session->bind_executor(&leg->executor());
  leg->executor().post([session, leg] { session->leg_early_inbound(leg); });
}

void SessionManager::leg_ended(const std::string& leg_id, std::string_view transport_reason,
                               int sip_status) {
  std::string reason(transport_reason);
  std::shared_ptr<Session> session;
  bool answered = false;
  bool inbound = false;
  {
    std::lock_guard lock(mu_);
    auto it = legs_.find(leg_id);
    if (it == legs_.end() || it->second.ended) return;
    inbound = it->second.inbound;
    it->second.ended = true;
    if (reason == "local_bye" && !it->second.local_reason.empty()) reason = it->second.local_reason;
    it->second.reason = reason;
    it->second.sip_status = sip_status;
    answered = it->second.answered;
    session = it->second.session;
    --live_legs_;
  }
  metrics_.active_calls.dec();
  if (!answered && inbound) metrics_.calls_abandoned.inc();  // the caller gave up first
  spdlog::info("call={} event=ended reason={}{}", leg_id, reason,
               sip_status ? " status=" + std::to_string(sip_status) : std::string());
  store_.call_ended(leg_id, wall_now(), std::string(reason),
                    sip_status ? std::optional<int>(sip_status) : std::nullopt);
  session->run([session, leg_id, reason = std::string(reason), sip_status] {
    session->leg_ended(leg_id, reason, sip_status);
  });
}

void SessionManager::note_local_hangup(const std::string& leg_id, std::string_view reason) {
  spdlog::info("call={} event=local_hangup reason={}", leg_id, reason);
  store_.add_event(leg_id, wall_now(), "hangup", std::string(reason));
}

void SessionManager::note_end_reason(const std::string& leg_id, const std::string& reason) {
  std::lock_guard lock(mu_);
  auto it = legs_.find(leg_id);
  if (it != legs_.end() && !it->second.ended) it->second.local_reason = reason;
}

void SessionManager::leg_transfer_progress(const std::string& leg_id, int status) {
  auto session = session_of_leg(leg_id);
  if (!session) return;
  store_.add_event(leg_id, wall_now(), "transfer_status", std::to_string(status));
  session->run([session, leg_id, status] { session->transfer_progress(leg_id, status); });
}

void SessionManager::end_all(std::string_view reason) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, leg] : legs_) {
      if (!leg.ended) ids.push_back(id);
    }
  }
  for (const auto& id : ids) leg_ended(id, reason, 0);
}

// ---- CallControl ------------------------------------------------------------------------

std::vector<SessionSummary> SessionManager::list() const {
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : sessions_) live.push_back(s);
  }
  std::vector<SessionSummary> out;
  out.reserve(live.size());
  for (const auto& s : live) out.push_back(s->summary());
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.started_at < b.started_at; });
  return out;
}

ControlResult<Done> SessionManager::can_place(const std::string& to, const std::string& trunk,
                                              store::AdmitVia via) const {
  if (!dialer_) return ControlError{ControlErrc::kUnavailable, "no transport can place calls"};
  if (auto ok = dialer_->check(to, trunk); !ok) return ok.error();
  if (draining_) return ControlError{ControlErrc::kUnavailable, "the server is shutting down"};
  if (active_legs() >= static_cast<size_t>(options_.max_calls)) {
    return ControlError{ControlErrc::kUnavailable, "at max_calls"};
  }
  // Last, so that only the store's own refusals are counted as such.
  if (!store_.admit_new_call(via)) {
    return ControlError{ControlErrc::kUnavailable,
                        "the call store is behind; new calls are refused for now"};
  }
  return Done{};
}

ControlResult<std::string> SessionManager::originate(OriginateRequest r) {
  if (r.flow.empty() == r.persona.empty()) {
    return ControlError{ControlErrc::kInvalid, "give exactly one of flow and persona"};
  }
  std::string name = r.flow.empty() ? r.persona : r.flow;
  if (!r.persona.empty()) {
    const agent::Persona* p = personas_ && agents_ ? personas_->resolve(r.persona) : nullptr;
    if (!p) return ControlError{ControlErrc::kInvalid, "unknown persona '" + r.persona + "'"};
    name = p->name;
  } else if (!flows_.find(r.flow) && !drivers_.count(r.flow)) {
    return ControlError{ControlErrc::kInvalid, "unknown flow '" + r.flow + "'"};
  }
  if (auto ok = can_place(r.to, r.trunk, store::AdmitVia::kApi); !ok) return ok.error();
  const std::string id = new_call_id();
  const std::string from = r.caller_id.empty() ? "atende" : r.caller_id;
  auto session = std::make_shared<Session>(*this, id, name, r.variables);
  const std::string kind = dialer_->leg_kind(r.to);
  session->add_leg(LegInfo{id, kind, LegDirection::kOutbound, from, r.to}, "dialling");
  store_.call_started({.id = id,
                       .direction = store::CallDirection::kOutbound,
                       .from = from,
                       .to = r.to,
                       .leg_kind = kind,
                       .flow = name,
                       .at = wall_now(),
                       .session_id = id});
  {
    std::lock_guard lock(mu_);
    sessions_.emplace(id, session);
    legs_.emplace(id, LegEntry{session});
    ++live_legs_;
  }
  metrics_.active_calls.inc();
  // Who asked is in the audit log (with this id), not one more write per call.
  emit("call.started", id,
       {{"direction", "outbound"},
        {"from", from},
        {"to", r.to},
        {"flow", name},
        {"requested_by", r.requested_by}});
  spdlog::info("call={} event=originate to={} flow={} by={}", id, r.to, name, r.requested_by);
  dialer_->dial(DialOrder{.leg_id = id,
                          .to = r.to,
                          .trunk = r.trunk,
                          .caller_id = r.caller_id,
                          .ring_timeout = std::chrono::seconds(r.ring_timeout_seconds)});
  return id;
}

ControlResult<Done> SessionManager::hangup(const std::string& call_id) {
  std::vector<std::string> legs;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(call_id);
    if (it == sessions_.end()) {
      auto leg = legs_.find(call_id);
      if (leg == legs_.end()) return ControlError{ControlErrc::kNotFound, "no such call"};
      if (leg->second.ended) return ControlError{ControlErrc::kConflict, "the call has ended"};
      legs.push_back(call_id);
    } else {
      for (const auto& [id, leg] : legs_) {
        if (leg.session == it->second && !leg.ended) legs.push_back(id);
      }
    }
  }
  if (legs.empty()) return ControlError{ControlErrc::kConflict, "the call has ended"};
  for (const auto& id : legs) {
    store_.add_event(id, wall_now(), "hangup", "api");
    if (dialer_) dialer_->hang_up(id);
  }
  return Done{};
}

ControlResult<Done> SessionManager::transfer(const std::string& call_id, const std::string& to) {
  auto session = session_of_leg(call_id);
  if (!session) return ControlError{ControlErrc::kNotFound, "no such call"};
  if (!dialer_) return ControlError{ControlErrc::kUnavailable, "no transport can transfer"};
  // Before any leg is answered the session's events run on the SIP thread: not from here.
  if (!session->executor()) return ControlError{ControlErrc::kConflict, "the call is not answered"};
  if (to.empty() || to.size() > 256)
    return ControlError{ControlErrc::kInvalid, "bad transfer target"};
  session->run([session, call_id, to] { session->transfer(call_id, to, [](int) {}); });
  return Done{};
}

ControlResult<Done> SessionManager::bridge(const std::string& call_id,
                                           const std::string& other_id) {
  std::shared_ptr<Session> a, b;
  {
    std::lock_guard lock(mu_);
    auto ia = legs_.find(call_id);
    auto ib = legs_.find(other_id);
    if (ia == legs_.end() || ib == legs_.end()) {
      return ControlError{ControlErrc::kNotFound, "no such call"};
    }
    if (call_id == other_id)
      return ControlError{ControlErrc::kInvalid, "a call cannot be bridged with itself"};
    if (ia->second.ended || ib->second.ended || !ia->second.answered || !ib->second.answered) {
      return ControlError{ControlErrc::kConflict, "both calls must be answered and up"};
    }
    a = ia->second.session;
    b = ib->second.session;
    if (a == b) return ControlError{ControlErrc::kConflict, "the calls are already one session"};
    // From now on the leg's events go to the session it joins.
    ib->second.session = a;
  }
  Executor* to = a->executor();
  Executor* from = b->executor();
  if (!to || !from) return ControlError{ControlErrc::kConflict, "both calls must be answered"};
  store_.add_event(call_id, wall_now(), "bridge_requested", other_id);
  // The leg leaves its session on its own executor, moves, and joins on the other's: legs
  // that meet in a bridge share one worker (no lock on the 20 ms path).
  from->post([this, a, b, other_id, to] {
    std::shared_ptr<Leg> leg = b->give_up_leg(other_id);
    if (!leg || !leg->move_to(*to)) {
      spdlog::warn("call={} bridge: the leg could not move", other_id);
      if (leg) leg->hangup("bridge failed");
      return;
    }
    to->post([a, leg] {
      if (!a->adopt_and_bridge(leg)) leg->hangup("bridge failed");
    });
  });
  return Done{};
}

CallControl::Subscription SessionManager::subscribe(std::function<void(const SessionEvent&)> fn) {
  std::lock_guard lock(subscribers_mu_);
  const Subscription id = next_subscription_++;
  subscribers_.emplace_back(id, std::move(fn));
  return id;
}

void SessionManager::unsubscribe(Subscription id) {
  std::lock_guard lock(subscribers_mu_);
  std::erase_if(subscribers_, [id](const auto& s) { return s.first == id; });
}

void SessionManager::emit(const std::string& type, const std::string& call_id,
                          const nlohmann::json& data) {
  std::vector<std::function<void(const SessionEvent&)>> to_call;
  {
    std::lock_guard lock(subscribers_mu_);
    if (subscribers_.empty()) return;
    for (const auto& [id, fn] : subscribers_) to_call.push_back(fn);
  }
  SessionEvent ev{type, call_id, wall_now(),
                  data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  for (const auto& fn : to_call) fn(ev);
}

// ---- SessionServices --------------------------------------------------------------------

std::unique_ptr<flow::Flow> SessionManager::make_flow(const std::string& name,
                                                      flow::FlowHost& host) {
  if (auto d = drivers_.find(name); d != drivers_.end() && !flows_.find(name)) {
    return d->second(host);
  }
  if (const agent::Persona* p = personas_ && agents_ ? personas_->resolve(name) : nullptr) {
    agent::Persona persona = *p;
    auto vars = p->variables;  // the persona's defaults, then what the call brought
    for (const auto& [k, v] : host.call().variables) vars[k] = v;
    persona.settings.system_prompt = fill_variables(persona.settings.system_prompt, vars);
    persona.settings.greeting = fill_variables(persona.settings.greeting, vars);
    const std::string leg_id = host.call().id;
    auto session = session_of_leg(leg_id);
    const std::string session_id = session ? session->id() : leg_id;
    return agents_->create(persona, host, [this, session_id, leg_id](const agent::AgentTurn& t) {
      add_turn(session_id, leg_id, t);
    });
  }
  return flows_.create(name, host);
}

void SessionManager::add_turn(const std::string& session_id, const std::string& leg_id,
                              const agent::AgentTurn& t) {
  store_.add_turn(leg_id, to_call_turn(t));
  nlohmann::json turn = {{"index", t.index},
                         {"user", t.user_text},
                         {"agent", t.agent_text},
                         {"interrupted", t.interrupted},
                         {"error", t.error},
                         {"leg", leg_id},
                         {"response_ms", t.first_play_ms >= 0 && t.speech_end_ms >= 0
                                             ? nlohmann::json(t.first_play_ms - t.speech_end_ms)
                                             : nlohmann::json(nullptr)}};
  {
    std::lock_guard lock(mu_);
    auto& transcript = transcripts_[session_id];
    if (!transcript.is_array()) transcript = nlohmann::json::array();
    if (transcript.size() < kMaxTranscriptTurns) transcript.push_back(turn);
  }
  emit("turn.completed", session_id, turn);
}

ControlResult<std::string> SessionManager::dial(Session& session, const flow::DialRequest& r,
                                                Executor* near) {
  if (auto ok = can_place(r.to, r.trunk, store::AdmitVia::kFlow); !ok) return ok.error();
  const std::string id = new_call_id();
  const std::string from = r.caller_id.empty() ? "atende" : r.caller_id;
  const std::string kind = dialer_->leg_kind(r.to);
  session.add_leg(LegInfo{id, kind, LegDirection::kOutbound, from, r.to}, "dialling");
  store_.call_started({.id = id,
                       .direction = store::CallDirection::kOutbound,
                       .from = from,
                       .to = r.to,
                       .leg_kind = kind,
                       .flow = session.flow_name(),
                       .at = wall_now(),
                       .session_id = session.id()});
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(session.id());
    if (it != sessions_.end()) legs_.emplace(id, LegEntry{it->second});
    ++live_legs_;
  }
  metrics_.active_calls.inc();
  dialer_->dial(DialOrder{.leg_id = id,
                          .to = r.to,
                          .trunk = r.trunk,
                          .caller_id = r.caller_id,
                          .ring_timeout = r.ring_timeout,
                          .near = near});
  return id;
}

void SessionManager::hang_up(const std::string& leg_id) {
  if (dialer_) dialer_->hang_up(leg_id);
}

void SessionManager::refer_leg(const std::string& leg_id, const std::string& to) {
  if (dialer_) dialer_->transfer(leg_id, to);
}

RecordingPolicy SessionManager::recording_policy(const std::string& flow) {
  if (const agent::Persona* p = personas_ && agents_ ? personas_->resolve(flow) : nullptr) {
    return resolve_recording(recording_config_, p->recording);
  }
  if (auto spec = flows_.find(flow)) return resolve_recording(recording_config_, spec->recording);
  return resolve_recording(recording_config_, {});  // an external driver: the server's
}

void SessionManager::session_finished(Session& session) {
  nlohmann::json data = {{"flow", session.flow_name()}};
  {
    std::lock_guard lock(mu_);
    auto legs = nlohmann::json::array();
    for (auto it = legs_.begin(); it != legs_.end();) {
      if (it->second.session.get() != &session) {
        ++it;
        continue;
      }
      legs.push_back({{"id", it->first},
                      {"answered", it->second.answered},
                      {"end_reason", it->second.reason},
                      {"sip_status", it->second.sip_status ? nlohmann::json(it->second.sip_status)
                                                           : nlohmann::json(nullptr)}});
      if (it->first == session.id()) {
        data["outcome"] = it->second.answered ? "answered" : it->second.reason;
        data["end_reason"] = it->second.reason;
      }
      it = legs_.erase(it);
    }
    data["legs"] = std::move(legs);
    auto t = transcripts_.find(session.id());
    data["transcript"] = t == transcripts_.end() ? nlohmann::json::array() : std::move(t->second);
    if (t != transcripts_.end()) transcripts_.erase(t);
    sessions_.erase(session.id());  // `session` lives on: its caller holds a reference
  }
  emit("call.ended", session.id(), data);
}

}  // namespace atende::sessions
