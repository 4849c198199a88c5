// CallControl: the one way anything outside a call acts on calls — the REST API today, the
// console, gRPC and campaigns later. Transport-neutral: it speaks of sessions (a call with
// one or more legs) and numbers/URIs, never of SIP dialogs or RTP ports.
//
// Every method may be called from any thread and returns at once (placing a call answers
// with its id before anything is dialled). Events reach subscribers on whichever thread
// produced them: a subscriber must be quick and never block (queue and return).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace atende::sessions {

// What went wrong, in the terms a REST client needs (the API maps these to 4xx/5xx).
enum class ControlErrc {
  kInvalid,      // 400: a field is wrong (unknown flow, persona or trunk, bad number)
  kNotFound,     // 404: no such call
  kForbidden,    // 403: not allowed (checked by the caller of CallControl, e.g. allow-lists)
  kUnavailable,  // 503: draining, at max_calls, no trunk registered
  kConflict,     // 409: the call is not in a state that allows it (already ended)
};

struct ControlError {
  ControlErrc code = ControlErrc::kInvalid;
  std::string message;  // names the problem ("unknown flow 'x'"); safe to show a client
};

// A value or a ControlError.
template <typename T>
class ControlResult {
 public:
  ControlResult(T value) : state_(std::move(value)) {}             // NOLINT: by design
  ControlResult(ControlError error) : state_(std::move(error)) {}  // NOLINT
  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const { return std::get<0>(state_); }
  const ControlError& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, ControlError> state_;
};

struct Done {};  // the success value of methods that return nothing

// An inbound call held ringing for a driver to decide (CallControl::answer / reject;
// SessionManager::set_inbound_hold).
struct HeldCall {
  std::string call_id;
  std::string from;
  std::string to;
};

// Place a call: dial `to` and run `flow` (or the agent `persona`) on it once answered.
struct OriginateRequest {
  std::string to;    // a number ("+5511999990000", "2302") or a sip: URI
  std::string flow;  // exactly one of flow / persona
  std::string persona;
  std::string trunk;      // empty: the dial plan's choice (or the default trunk)
  std::string caller_id;  // empty: the trunk's from user
  std::map<std::string, std::string> variables;  // reach flow templates and persona prompts
  int ring_timeout_seconds = 30;                 // then CANCEL: outcome "no_answer"
  std::string requested_by;                      // who asked (API token name), for the record
};

struct LegSummary {
  std::string id;
  std::string kind;       // "sip", later "audiosocket", "asp", "browser", "grpc"
  std::string direction;  // "inbound" / "outbound"
  std::string from;
  std::string to;
  std::string state;  // "dialling", "ringing", "answered", "ended"
};

struct SessionSummary {
  std::string id;  // the session's first leg's call id (the store's key)
  std::string flow;
  std::string state;  // "ringing", "answered", "bridged", "ended"
  std::chrono::system_clock::time_point started_at;
  std::vector<LegSummary> legs;
};

// Something that happened to a call, for webhooks, the console and gRPC watchers.
// `type` is one of: call.started, call.answered, turn.completed, call.ended.
struct SessionEvent {
  std::string type;
  std::string call_id;
  std::chrono::system_clock::time_point at;
  std::string json;  // the event's payload as a JSON object (see docs/api.md "Webhooks")
};

class CallControl {
 public:
  virtual ~CallControl() = default;
  virtual std::vector<SessionSummary> list() const = 0;
  // Validates (flow/persona/trunk exist, capacity) and returns the new call id at once;
  // the dialling outcome arrives as events and in the record.
  virtual ControlResult<std::string> originate(OriginateRequest request) = 0;
  virtual ControlResult<Done> hangup(const std::string& call_id) = 0;
  // Blind transfer (SIP REFER) of the call's first leg to `to`.
  virtual ControlResult<Done> transfer(const std::string& call_id, const std::string& to) = 0;
  // Connect two answered calls: each hears the other; their flows or agents leave. `other_id`
  // joins `call_id`'s session; when either side hangs up, the other is hung up.
  virtual ControlResult<Done> bridge(const std::string& call_id, const std::string& other_id) = 0;

  // An inbound call held ringing for its driver to decide (docs/grpc.md "Answer"): answer
  // it, or refuse it with a final status (400..699; SIP's, e.g. 486 busy, 603 decline) and
  // `reason` as its end_reason. kConflict when it is not ringing any more.
  virtual ControlResult<Done> answer(const std::string& call_id) {
    return ControlError{ControlErrc::kConflict, "the call is not ringing"};
  }
  virtual ControlResult<Done> reject(const std::string& call_id, int status,
                                     const std::string& reason) {
    return ControlError{ControlErrc::kConflict, "the call is not ringing"};
  }
  // The held call gets early media (SIP: 183 with SDP): its driver starts now, on a leg whose
  // audio the caller hears while it still rings; answer() or reject() still decide the call.
  virtual ControlResult<Done> progress(const std::string& call_id) {
    return ControlError{ControlErrc::kConflict, "the call is not ringing"};
  }

  using Subscription = uint64_t;
  virtual Subscription subscribe(std::function<void(const SessionEvent&)> fn) = 0;
  virtual void unsubscribe(Subscription id) = 0;
};

}  // namespace atende::sessions
