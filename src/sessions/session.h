// One call as the user sees it: a session of one or more legs, and what drives them — a
// flow or the agent on the first leg, flows run on dialled legs (the gate attendant's call
// to the resident), or a bridge between two legs (a transfer). Transport-neutral: legs are
// core/leg.h Legs, whatever brought them.
//
// Threads: every leg of a session lives on one executor (its media worker), and so does
// everything in here once the first leg exists: the flows, the bridge, the leg table. What
// happens before that (an API call being dialled, with no media yet) runs on the thread
// that reports it (the SIP thread), one event at a time. summary() is the only method for
// other threads.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/leg.h"
#include "flow/flow_host.h"
#include "recording/recorder.h"
#include "sessions/bridge.h"
#include "sessions/call_control.h"
#include "sessions/session_services.h"

namespace atende::sessions {

class LegHost;

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `id`: the first leg's call id. `flow`: what drives it (flow or persona name).
  Session(SessionServices& services, std::string id, std::string flow,
          std::map<std::string, std::string> variables);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::string& id() const { return id_; }
  const std::string& flow_name() const { return flow_; }
  SessionSummary summary() const;  // any thread

  // Runs `fn` on the session's executor, or at once while it has none (no media yet).
  void run(std::function<void()> fn);

  // ---- from SessionManager (on the session's thread via run()) ----
  // A leg the session already knows (by id) is now up with media: inbound once answered,
  // outbound once the far end answered. Starts its media; the first leg starts the driver.
  void leg_up(std::shared_ptr<Leg> leg);
  void leg_ringing(const std::string& leg_id);
  // A dialled leg has early media (183 with SDP): its media exists before the answer. The
  // dialler hears it when its dial asked for early media; leg_up() follows on the answer.
  void leg_early(std::shared_ptr<Leg> leg);
  // Our first leg (inbound, still ringing) has early media: its media and driver start now;
  // leg_up() follows on the answer and only marks it answered.
  void leg_early_inbound(std::shared_ptr<Leg> leg);
  // The leg ended, for whatever reason (far end, our side, failed dial). Idempotent.
  void leg_ended(const std::string& leg_id, const std::string& reason, int sip_status);
  void transfer_progress(const std::string& leg_id, int status);
  // Bridging two sessions (CallControl::bridge). On this session's executor: hand over an
  // answered leg (its flow ends, the slot leaves; an emptied session finishes). nullptr when
  // there is no such answered leg.
  std::shared_ptr<Leg> give_up_leg(const std::string& leg_id);
  // On this session's executor: take `leg` (answered, already moved here) as a new slot and
  // bridge it with this session's first leg (whose flow ends). False when that cannot be.
  bool adopt_and_bridge(std::shared_ptr<Leg> leg);
  // Adds the slot of a leg that is being set up (inbound before its answer, outbound while
  // dialling). Any thread before the session is shared; its thread after.
  void add_leg(LegInfo info, std::string state);

  // ---- from LegHost (flows on this session's legs; the session's thread) ----
  void dial(const std::string& from_leg, flow::DialRequest request,
            std::function<void(const flow::DialResult&)> done);
  bool run_flow_on(
      const std::string& leg_id, const std::string& flow,
      std::map<std::string, std::string> variables,
      std::function<void(const std::map<std::string, std::string>&, std::string_view)> done);
  bool bridge(const std::string& from_leg, const std::string& leg_id, bool keep_flow,
              std::function<void(std::string_view)> done);
  void hang_up_leg(const std::string& leg_id);
  void transfer(const std::string& leg_id, const std::string& to, std::function<void(int)> done);
  void flow_finished(const std::string& leg_id, const std::map<std::string, std::string>& slots);
  // Recordings a flow made (step `capture`), for any flow of the session to play: at most
  // flow::FlowHost::kMaxClips, each cut to kMaxClipSeconds.
  void keep_clip(const std::string& name, ClipPtr clip) {
    flow::keep_bounded_clip(clips_, name, std::move(clip));
  }
  ClipPtr clip(const std::string& name) const {
    auto it = clips_.find(name);
    return it == clips_.end() ? nullptr : it->second;
  }
  Executor* executor() const { return executor_.load(); }
  // The flow keeps the conversation's lines in the record (recording.transcript). Its thread.
  bool keeps_transcript() const { return recording_policy_.transcript; }
  // Any thread, once: the executor of the first leg with media, which every later leg
  // shares. From then on run() posts there.
  void bind_executor(Executor* e) { executor_.store(e); }

 private:
  struct Slot {
    LegInfo info;
    std::string state;  // "dialling", "ringing", "answered", "ended"
    std::shared_ptr<Leg> leg;
    std::unique_ptr<LegHost> host;     // the flow's host on this leg
    std::unique_ptr<flow::Flow> flow;  // what runs on this leg (none while parked/bridged)
    std::function<void(const flow::DialResult&)> on_dial;  // a dial still waiting
    std::function<void(const std::map<std::string, std::string>&, std::string_view)> on_flow_done;
    std::map<std::string, std::string> slots;  // what its flow handed back (flow_finished)
    std::function<void(int)> on_transfer;
    std::string dialler;                 // the leg whose flow dialled this one
    bool early_media = false;            // the dialler hears this leg before it answers
    bool early_inbound = false;          // inbound, ringing, its flow already runs (183)
    std::unique_ptr<LegListener> early;  // forwards early media to the dialler
  };
  Slot* find(const std::string& leg_id);
  Slot& primary() { return *slots_.front(); }
  bool start_flow(Slot& slot, const std::string& flow, std::map<std::string, std::string> vars);
  void end_flow(Slot& slot);
  void bridge_ended(int side, std::string_view reason);
  void maybe_finish();
  void set_state(Slot& slot, std::string state);
  // Call recording of the first leg (docs/recording.md): on when it is answered, off when
  // it ends or leaves the session.
  void start_recording(Slot& slot);
  void stop_recording(Slot& slot);

  SessionServices& services_;
  const std::string id_;
  const std::string flow_;
  const std::map<std::string, std::string> variables_;  // for the driver (API "variables")
  std::atomic<Executor*> executor_{nullptr};
  std::vector<std::unique_ptr<Slot>> slots_;  // [0]: the leg the driver runs on
  std::unique_ptr<Bridge> bridge_;
  std::string bridged_[2];          // leg ids of the bridge's sides
  bool bridge_keeps_flow_ = false;  // the caller goes back to its flow when the other ends
  std::function<void(std::string_view)> on_bridge_end_;
  std::unique_ptr<flow::Flow> parked_driver_;  // the driver while its leg is bridged
  // Flows gone but maybe still on the stack (the one asking), and their hosts: destroyed on
  // a later turn of the executor, flows first.
  std::vector<std::unique_ptr<flow::Flow>> retired_;
  std::vector<std::unique_ptr<LegHost>> retired_hosts_;
  bool finished_ = false;
  std::map<std::string, ClipPtr> clips_;  // keep_clip(); the executor only
  RecordingPolicy recording_policy_;
  std::shared_ptr<recording::CallRecording> recording_;  // the first leg's tap, while on

  mutable std::mutex summary_mu_;  // guards the copy summary() reads
  SessionSummary summary_;
};

}  // namespace atende::sessions
