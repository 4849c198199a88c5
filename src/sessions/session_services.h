// What a Session needs from the server around it (SessionManager implements it): engines
// to run flows and the agent, the store, the transports that place and end legs, and the
// event stream. Kept apart so the session itself stays transport- and store-shaped-free
// and a test can stand in for the server.
#pragma once
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/config_recording.h"
#include "core/leg.h"
#include "flow/flow_host.h"
#include "sessions/call_control.h"

namespace atende::store {
class CallStore;
}
namespace atende::recording {
class Recorder;
}

namespace atende::sessions {

class Session;

class SessionServices {
 public:
  virtual ~SessionServices() = default;
  // What runs flow or persona `name` on `host`; nullptr if there is none by that name.
  virtual std::unique_ptr<flow::Flow> make_flow(const std::string& name, flow::FlowHost& host) = 0;
  virtual speech::PhraseSource& phrases() = 0;
  virtual speech::Recognizer* recognizer() = 0;  // nullptr: none
  virtual store::CallStore& store() = 0;
  // Places a call for `session` (records the new leg, adds it to the session, asks the
  // transport); the new leg's id, or why it cannot be dialled.
  virtual ControlResult<std::string> dial(Session& session, const flow::DialRequest& request,
                                          Executor* near) = 0;
  virtual void hang_up(const std::string& leg_id) = 0;  // through the leg's transport
  virtual void refer_leg(const std::string& leg_id, const std::string& to) = 0;
  // An event for subscribers (webhooks, the console): `data` is the payload object.
  virtual void emit(const std::string& type, const std::string& call_id,
                    const nlohmann::json& data) = 0;
  // Every leg has ended: the session leaves the live registry.
  virtual void session_finished(Session& session) = 0;
  // What a call driven by `flow` (a flow or persona name) records (docs/recording.md), and
  // the writer of audio recordings (nullptr: none). Defaults: nothing is recorded.
  virtual RecordingPolicy recording_policy(const std::string& flow) { return {}; }
  virtual recording::Recorder* recorder() { return nullptr; }
};

}  // namespace atende::sessions
