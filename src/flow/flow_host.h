// What a running flow may use of the call it drives. Implemented by the call manager;
// tests implement it with a fake leg and a fake clock. Protocol-free by design.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/leg.h"
#include "speech/recognizer.h"
#include "speech/synthesizer.h"

namespace atende::flow {

struct CallInfo {
  std::string id;    // our call id (also the store's key)
  std::string from;  // caller, e.g. "sip:alice@10.0.0.1"
  std::string to;    // dialled, e.g. "sip:ivr@127.0.0.1"
  std::string flow;  // flow name chosen by the dial plan
};

class FlowHost {
 public:
  virtual ~FlowHost() = default;
  virtual Leg& leg() = 0;
  virtual const CallInfo& call() const = 0;
  virtual speech::PhraseSource& phrases() = 0;
  // Speech to text for ask/confirm steps. The default understands nothing (every request
  // fails at once), so a host without a recogniser still runs flows: spoken answers count
  // as no-match and the DTMF alternatives keep working.
  virtual speech::Recognizer& recognizer();
  // Run `fn` later on this call's media thread (e.g. when a synthesised clip is ready).
  // Dropped silently if the call has ended by then. Callable from any thread: flows call
  // it from speech workers (never after the flow has been destroyed, so a host that
  // outlives its flow is safe).
  virtual void post(std::function<void()> fn) = 0;
  // Call record: an event line ("menu", "choice 3") and the digits the caller pressed.
  virtual void record_event(std::string_view kind, std::string_view detail) = 0;
  virtual void record_digits(std::string_view digits) = 0;
  // Wall-clock time for steps that speak it (say_time); a virtual so tests can fix it.
  virtual std::chrono::system_clock::time_point wall_now() const {
    return std::chrono::system_clock::now();
  }
};

// A running flow drives one leg. The host calls start() once, then forwards the leg's
// events (the flow is the leg's listener).
class Flow : public LegListener {
 public:
  virtual void start(MonoTime now) = 0;
};

}  // namespace atende::flow
