// What a flow (or the agent) running on one leg of a session sees: flow::FlowHost for
// that leg, its record in the store, and the session's multi-leg operations (dial, run a
// flow on a dialled leg, bridge, transfer). One per running flow; lives on the session's
// executor and outlives its flow.
#pragma once
#include <memory>

#include "flow/flow_host.h"
#include "sessions/session_services.h"

namespace atende::sessions {

class Session;

class LegHost final : public flow::FlowHost {
 public:
  LegHost(Session& session, Leg& leg, flow::CallInfo info, SessionServices& services);

  Leg& leg() override { return leg_; }
  const flow::CallInfo& call() const override { return info_; }
  speech::PhraseSource& phrases() override { return services_.phrases(); }
  speech::Recognizer& recognizer() override;
  void post(std::function<void()> fn) override;
  void record_event(std::string_view kind, std::string_view detail) override;
  void record_digits(std::string_view digits) override;
  void note_transcript(Speaker who, std::string_view text) override;

  void dial(flow::DialRequest request, std::function<void(const flow::DialResult&)> done) override;
  bool run_flow_on(const std::string& leg_id, const std::string& flow,
                   std::map<std::string, std::string> variables,
                   std::function<void(const std::map<std::string, std::string>&, std::string_view)>
                       done) override;
  bool bridge(const std::string& leg_id, bool keep_flow,
              std::function<void(std::string_view)> done) override;
  void hang_up_leg(const std::string& leg_id) override;
  void transfer(const std::string& to, std::function<void(int)> done) override;
  void flow_finished(const std::map<std::string, std::string>& slots) override;
  // Session-wide: a flow on another leg of this session plays what this one recorded.
  void keep_clip(const std::string& name, ClipPtr clip) override;
  ClipPtr clip(const std::string& name) const override;

  // Executor thread: the flow is gone; work posted for it is dropped from now on.
  void end() { *alive_ = false; }

 private:
  Session& session_;
  Leg& leg_;
  flow::CallInfo info_;
  SessionServices& services_;
  // Read and written on the executor only, so a plain bool; shared so posted work can
  // outlive this host and still find out the flow is gone.
  std::shared_ptr<bool> alive_;
};

}  // namespace atende::sessions
