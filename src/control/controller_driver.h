// What drives a call a controller takes: a flow::Flow like any other (the session starts it
// on the call's leg for the dial plan target `controller`, or for a call placed with the
// gRPC Dial), so sessions/, flow/ and agent/ know nothing of gRPC. It runs on the leg's
// media worker and talks to the controller's stream only through its ControllerChannel.
//
//   control mode  every 20 ms: what the caller said goes to the controller; one frame the
//                 controller sent is played; its commands (Play, Say, SendDtmf, Hangup ...)
//                 run here, between ticks.
//   watch mode    StartFlow / StartAgent: a flow or persona drives the call as it would on
//                 its own (through a host that forwards to this call's), and the controller
//                 only hears events. When that flow ends the call, the call comes back to
//                 the controller (flow_ended) if one is attached, else it ends.
//
// A controller that vanishes in control mode hangs the call up (end_reason
// `controller_gone`); in watch mode the flow runs on. An inbound call no controller takes
// within the park time ends as `no_controller`.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "audio/vad_energy.h"
#include "control/controller_channel.h"
#include "control/controller_hub.h"
#include "flow/flow_host.h"
#include "turn/endpointer.h"

namespace atende::control {

struct DriverDeps {
  std::shared_ptr<ControllerHub> hub;  // shared: a driver may outlive the gRPC front
  // Flows and personas by name (SessionManager::make_flow): StartFlow / StartAgent.
  std::function<std::unique_ptr<flow::Flow>(const std::string&, flow::FlowHost&)> make_flow;
  // The end_reason our own hang-up of `leg_id` is recorded with (else the transport's).
  std::function<void(const std::string& leg_id, const std::string& reason)> note_end_reason;
  std::chrono::milliseconds park_timeout{15000};
};

class ControllerDriver final : public flow::Flow, private turn::EndpointerEvents {
 public:
  ControllerDriver(flow::FlowHost& host, DriverDeps deps);
  ~ControllerDriver() override;

  void start(MonoTime now) override;
  void on_frame(const AudioFrame& heard, MonoTime now) override;
  void on_dtmf(char digit, MonoTime now) override;
  void on_playout_idle(MonoTime now) override;
  void on_hangup(std::string_view reason) override;

 private:
  class ChildLeg;
  class ChildHost;
  enum class Mode { kControl, kWatch };

  void run_commands(MonoTime now);
  void say(const std::string& text, const std::string& voice);
  void start_child(const std::string& name, std::map<std::string, std::string> vars, MonoTime now);
  // The child flow hung up its leg (it is done): back to the controller, or the call ends.
  void child_hung_up(std::string_view reason);
  void hang_up(const std::string& reason);
  // turn::EndpointerEvents: speech_started / speech_stopped for the controller.
  void on_speech_started(const turn::TurnEvent& ev, MonoTime now) override;
  void on_end_of_turn(const turn::TurnEvent& ev, MonoTime now) override;

  flow::FlowHost& host_;
  DriverDeps deps_;
  std::shared_ptr<ControllerChannel> channel_;
  Mode mode_ = Mode::kControl;
  bool ended_ = false;
  bool was_attached_ = false;
  MonoTime started_{};
  std::vector<ControllerCommand> commands_;  // reused every tick
  AudioFrame from_controller_{};
  static constexpr size_t kJitterFrames = 3;  // 60 ms of the controller's audio
  bool refilling_ = true;     // waiting for kJitterFrames before playing its audio again
  bool clip_queued_ = false;  // a Play or Say is playing: tell playout_idle when it is done
  std::string digits_;        // pressed while the controller drove the call, for the record

  std::unique_ptr<ChildHost> child_host_;
  std::unique_ptr<flow::Flow> child_;
  std::string child_name_;
  // Children that ended while on the stack: destroyed on a later turn of the executor.
  std::vector<std::unique_ptr<flow::Flow>> retired_;
  std::vector<std::unique_ptr<ChildHost>> retired_hosts_;

  turn::Endpointer ear_;  // energy VAD, no barge-in (the controller decides)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace atende::control
