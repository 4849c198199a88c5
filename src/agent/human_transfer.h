// transfer_to_human, shared by the pipeline agent (agent_loop.h) and the Realtime engine
// (realtime_engine.h): the persona's human (AgentSettings::human_to) is dialled while the
// agent says the hand-off ("bridge"), or nothing happens until the hand-off is heard
// ("refer"). Once the person answered and the caller heard the hand-off, the caller is
// bridged to them (the agent leaves) or REFERred away. Nobody answers, the REFER fails, the
// bridge is refused: the agent is told why (it says so and carries on).
//
// Records "transfer" (bridge <leg> / refer <to>) and "transfer_failed" (why) on the call.
// Media thread only. The host drops a dial's or a REFER's result once the flow is gone.
#pragma once
#include <string>

#include "core/clock.h"
#include "flow/flow_host.h"

namespace atende::agent {

class HumanTransferEvents {
 public:
  virtual ~HumanTransferEvents() = default;
  // The agent is over (it hung up): a person who answers now is hung up.
  virtual bool agent_gone() const = 0;
  // The caller is someone else's now (bridged, or the REFER was accepted): stop all work.
  virtual void on_handed_over() = 0;
  // No transfer; `why` ("busy", "no_answer", "refer 486", "bridge refused", "no human
  // configured") is recorded already. The agent tells the caller and carries on.
  virtual void on_transfer_failed(const std::string& why) = 0;
};

struct HumanTarget {
  std::string to;               // a number, an extension or a sip: URI; empty: none
  std::string mode = "bridge";  // "bridge" or "refer"
  Millis ring_timeout{20000};
};

class HumanTransfer {
 public:
  HumanTransfer(flow::FlowHost& host, HumanTransferEvents& events) : host_(host), events_(events) {}
  HumanTransfer(const HumanTransfer&) = delete;
  HumanTransfer& operator=(const HumanTransfer&) = delete;

  bool active() const { return state_ != State::kNone; }
  // The model asked for a person. Bridge: dial now (they may answer while the hand-off
  // plays). Refer: wait for the hand-off. No target: on_transfer_failed at once. Ignored
  // while a transfer is in progress.
  void start(const HumanTarget& target);
  // The caller heard the hand-off (played out, or they talked over it): hand over as soon
  // as the person has answered.
  void handoff_heard();
  // The call is over: a person who answered is hung up; later results are ignored.
  void cancel();

 private:
  enum class State { kNone, kDialling, kAnswered, kReferring };
  void on_dialled(const flow::DialResult& r);
  void hand_over();
  void fail(const std::string& why);

  flow::FlowHost& host_;
  HumanTransferEvents& events_;
  State state_ = State::kNone;
  HumanTarget target_;
  std::string human_leg_;  // the person's leg once they answered
  bool handoff_heard_ = false;
};

}  // namespace atende::agent
