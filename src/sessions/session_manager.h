// The transport-neutral heart of the server: the live registry of sessions, the dial plan
// and limits for new calls, drain, the call records, and CallControl for the REST API (and
// later the console, gRPC and campaigns).
//
// Front-ends (the SIP one today) turn their protocol into the leg_* calls below, from their
// own thread; sessions run on their legs' executors; CallControl is called from the HTTP
// thread. A mutex guards the registry only and is never held across anything slow or
// across a call into a session or a subscriber.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/agent_runtime.h"
#include "agent/persona.h"
#include "core/metrics.h"
#include "flow/flow_library.h"
#include "sessions/call_control.h"
#include "sessions/dial_plan.h"
#include "sessions/dialer.h"
#include "sessions/session.h"
#include "sessions/session_services.h"
#include "store/call_store.h"

namespace atende::sessions {

struct SessionOptions {
  int max_calls = 1000;  // legs up at once; more inbound get 486, originate 503
};
// New calls also get 503 (SIP and API; a flow's dial fails) while the call store is behind
// (store::CallStore::admit_new_call, docs/security.md "No record lost").

// A new inbound leg, as a front-end describes it.
struct InboundRequest {
  std::string call_id;
  std::string kind = "sip";
  std::string from;
  std::string to;
  std::string user;  // what was dialled: the request-URI user, an extension
  // Set when the front-end already knows what answers (an AudioSocket UUID the API mapped,
  // a listener's default flow): the dial plan is not asked.
  std::string flow{};
  std::map<std::string, std::string> variables{};  // for the flow's templates / the persona
  // The front-end can hold the leg unanswered (SIP: ringing) until answer()/reject().
  bool can_hold = false;
};

// What the dial plan and limits say about an inbound leg.
struct Admission {
  bool ok = false;
  std::string flow;      // flow or persona name
  bool persona = false;  // `flow` is an AI persona (costs money per call: docs/security.md)
  int status = 0;        // when !ok: SIP-style status (486, 503, 404)
  std::string phrase;
  // The flow's own RTP inactivity timeout (FlowSpec::rtp_timeout); -1: the server's.
  Millis rtp_timeout{-1};
  // > 0: hold the leg ringing until CallControl::answer / reject, at most this long (then
  // the front-end refuses it: SIP 480). Only for a request that can_hold.
  Millis hold{0};
};

class SessionManager final : public CallControl, public SessionServices {
 public:
  SessionManager(SessionOptions options, store::CallStore& store, flow::FlowLibrary& flows,
                 speech::PhraseSource& phrases, speech::Recognizer* recognizer,
                 CoreMetrics& metrics, DialPlan dial_plan);
  ~SessionManager() override;

  // Before calls start; all outlive us.
  void set_agents(const agent::PersonaLibrary* personas, agent::AgentRuntime* runtime) {
    personas_ = personas;
    agents_ = runtime;
  }
  void set_dialer(Dialer* dialer) { dialer_ = dialer; }
  // Call recording (docs/recording.md): the server's defaults, and the writer (nullptr:
  // audio is never recorded). Before calls start.
  void set_recording(RecordingConfig config, recording::Recorder* recorder) {
    recording_config_ = config;
    recorder_ = recorder;
  }
  // What drives calls whose flow is `name` when no flow or persona has that name: an
  // external driver (the gRPC controller, docs/grpc.md) that is a flow::Flow to sessions.
  // Before calls start.
  using DriverFactory = std::function<std::unique_ptr<flow::Flow>(flow::FlowHost&)>;
  void set_driver(const std::string& name, DriverFactory factory) {
    drivers_[name] = std::move(factory);
  }
  // Inbound calls whose flow is `name` are held ringing (front-ends that can) for at most
  // `hold`, and `on_held` is told of each (on the front-end's thread: queue and return) so
  // their driver can answer or refuse them. Before calls start.
  void set_inbound_hold(const std::string& name, Millis hold,
                        std::function<void(const HeldCall&)> on_held) {
    holds_[name] = {hold, std::move(on_held)};
  }
  // Told of every 18x a dialled leg gets (the gRPC controller's "ringing"). Before calls.
  void set_progress_observer(std::function<void(const std::string& leg_id, int status)> fn) {
    progress_observer_ = std::move(fn);
  }
  // Any thread, before our side hangs `leg_id` up: the end_reason to record instead of the
  // transport's generic one for a local hang-up ("local_bye"), e.g. "controller_gone".
  void note_end_reason(const std::string& leg_id, const std::string& reason);

  // From now on new calls are refused (SIGTERM drain).
  void set_draining() { draining_ = true; }
  bool draining() const { return draining_; }
  size_t active_legs() const;
  // After the transports stopped: record every leg they did not report ended.
  void end_all(std::string_view reason);

  // ---- front-ends (any thread) ----
  Admission admit(const InboundRequest& request) const;
  // A leg that will not be: recorded as a rejected call.
  void reject(const InboundRequest& request, const std::string& flow, int status,
              const std::string& phrase);
  // The admitted leg is being answered: its session exists from now on. `executor`: where
  // its media already lives, or nullptr when it has none yet (a delayed offer).
  void open_inbound(const InboundRequest& request, const Admission& admission, Executor* executor);
  // Inbound: we answered. Outbound: the far end answered and `leg` is its media.
  void leg_answered(std::shared_ptr<Leg> leg, const std::string& media_note);
  void leg_progress(const std::string& leg_id, int status);
  // Outbound: the far end sent early media (183 with SDP); `leg` is its media, not started.
  void leg_early(std::shared_ptr<Leg> leg);
  // Inbound, held: we sent early media (progress()); `leg` is its media, not started. The
  // session starts it and its driver; leg_answered() follows on the answer.
  void leg_early_inbound(std::shared_ptr<Leg> leg);
  // The leg is gone (either side, or a dial that failed). Idempotent.
  void leg_ended(const std::string& leg_id, std::string_view reason, int sip_status);
  // Our side is hanging the leg up (a flow or agent ended the call): logged, and recorded as
  // the call's "hangup" event with `reason`. The front-end then ends the leg (leg_ended).
  void note_local_hangup(const std::string& leg_id, std::string_view reason);
  void leg_transfer_progress(const std::string& leg_id, int status);

  // ---- CallControl ----
  std::vector<SessionSummary> list() const override;
  ControlResult<std::string> originate(OriginateRequest request) override;
  ControlResult<Done> hangup(const std::string& call_id) override;
  ControlResult<Done> transfer(const std::string& call_id, const std::string& to) override;
  ControlResult<Done> bridge(const std::string& call_id, const std::string& other_id) override;
  ControlResult<Done> answer(const std::string& call_id) override;
  ControlResult<Done> reject(const std::string& call_id, int status,
                             const std::string& reason) override;
  ControlResult<Done> progress(const std::string& call_id) override;
  Subscription subscribe(std::function<void(const SessionEvent&)> fn) override;
  void unsubscribe(Subscription id) override;

  // ---- SessionServices (sessions' threads) ----
  std::unique_ptr<flow::Flow> make_flow(const std::string& name, flow::FlowHost& host) override;
  speech::PhraseSource& phrases() override { return phrases_; }
  speech::Recognizer* recognizer() override { return recognizer_; }
  store::CallStore& store() override { return store_; }
  ControlResult<std::string> dial(Session& session, const flow::DialRequest& request,
                                  Executor* near) override;
  void hang_up(const std::string& leg_id) override;
  void refer_leg(const std::string& leg_id, const std::string& to) override;
  void emit(const std::string& type, const std::string& call_id,
            const nlohmann::json& data) override;
  void session_finished(Session& session) override;
  RecordingPolicy recording_policy(const std::string& flow) override;
  recording::Recorder* recorder() override { return recorder_; }

 private:
  struct LegEntry {
    std::shared_ptr<Session> session{};
    bool inbound = false;
    bool answered = false;
    bool ended = false;
    bool held = false;   // inbound, ringing until answer() / reject()
    bool early = false;  // inbound, held: progress() started its early media
    std::string reason{};
    std::string local_reason{};  // note_end_reason(): replaces "local_bye"
    int sip_status = 0;
  };
  std::shared_ptr<Session> session_of_leg(const std::string& leg_id) const;
  bool known_flow(const std::string& name) const;
  // Whether a new call to `to` may be placed now (a transport, a route, not draining, under
  // max_calls, the store keeping up): the checks originate() and a flow's dial share.
  ControlResult<Done> can_place(const std::string& to, const std::string& trunk,
                                store::AdmitVia via) const;
  void add_turn(const std::string& session_id, const std::string& leg_id,
                const agent::AgentTurn& turn);

  SessionOptions options_;
  store::CallStore& store_;
  flow::FlowLibrary& flows_;
  speech::PhraseSource& phrases_;
  speech::Recognizer* recognizer_;
  CoreMetrics& metrics_;
  DialPlan dial_plan_;
  const agent::PersonaLibrary* personas_ = nullptr;
  agent::AgentRuntime* agents_ = nullptr;
  Dialer* dialer_ = nullptr;
  RecordingConfig recording_config_;
  recording::Recorder* recorder_ = nullptr;
  std::map<std::string, DriverFactory> drivers_;  // set before calls; read-only after
  struct Hold {
    Millis timeout{0};
    std::function<void(const HeldCall&)> on_held;
  };
  std::map<std::string, Hold> holds_;  // by flow name; set before calls; read-only after
  // The held leg `call_id`, still ringing: false (and `error`) otherwise.
  bool take_held(const std::string& call_id, ControlError* error);
  std::function<void(const std::string&, int)> progress_observer_;
  std::atomic<bool> draining_{false};

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Session>> sessions_;  // by session id
  std::unordered_map<std::string, LegEntry> legs_;                      // by leg id
  size_t live_legs_ = 0;                                                // legs not ended
  std::map<std::string, nlohmann::json> transcripts_;  // agent turns per session, bounded

  mutable std::mutex subscribers_mu_;
  std::vector<std::pair<Subscription, std::function<void(const SessionEvent&)>>> subscribers_;
  Subscription next_subscription_ = 1;
};

}  // namespace atende::sessions
