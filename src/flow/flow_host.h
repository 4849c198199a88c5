// What a running flow may use of the call it drives. Implemented by the call manager;
// tests implement it with a fake leg and a fake clock. Protocol-free by design.
#pragma once
#include <chrono>
#include <functional>
#include <map>
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
  // Given by whoever started the call (POST /api/calls "variables", a parent flow's
  // slots for a flow run on a dialled leg): flow templates and persona prompts use them.
  std::map<std::string, std::string> variables{};
};

// A second leg for this call (flow step `dial`, the agent's transfer_to_human).
struct DialRequest {
  std::string to{};         // a number, an extension or a sip: URI
  std::string trunk{};      // empty: the dial plan's choice
  std::string caller_id{};  // empty: the trunk's
  Millis ring_timeout{30000};
  // The caller hears what the far end sends before it answers (183 early media: ringback,
  // "the number you dialled..."), instead of the flow's own silence.
  bool early_media = false;
};

// How a dial ended: "answered", or why not: "busy", "no_answer", "rejected",
// "unreachable", "auth_failed", "failed" (no trunk, bad number), "cancelled" (our side
// hung up first).
struct DialResult {
  std::string outcome{};
  int sip_status = 0;     // the final SIP status when there was one
  std::string leg_id{};   // the new leg's call id (its own record), empty when none
  std::string message{};  // for "failed": why, for the record
  bool answered() const { return outcome == "answered"; }
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
  // A line of the conversation as it happens (Speaker::kCaller: what the recogniser took;
  // kAgent: what the flow or agent starts to say). The session passes it to the leg (a
  // client that asked for transcripts) and to the record when the flow keeps transcripts.
  // Default: dropped.
  virtual void note_transcript(Speaker who, std::string_view text) {}
  // Wall-clock time for steps that speak it (say_time); a virtual so tests can fix it.
  virtual std::chrono::system_clock::time_point wall_now() const {
    return std::chrono::system_clock::now();
  }

  // ---- more legs (a session; docs/architecture.md). Defaults: not available. ----
  // Place a call for this session. `done` runs later on this call's thread, once: with
  // "answered" the new leg is held, silent, until run_flow_on() or bridge() (or hang_up_leg).
  virtual void dial(DialRequest request, std::function<void(const DialResult&)> done);
  // Run flow `flow` on the answered leg `leg_id` with `variables` (a parent flow's slots).
  // `done` gets that flow's slots when it ends (it hangs up its leg, or the far end does)
  // and why the leg ended. False when there is no such flow or leg.
  virtual bool run_flow_on(
      const std::string& leg_id, const std::string& flow,
      std::map<std::string, std::string> variables,
      std::function<void(const std::map<std::string, std::string>& slots, std::string_view ended)>
          done);
  // Connect this call's leg with the answered leg `leg_id`: each hears the other and DTMF
  // passes. From then on the flow neither hears nor speaks. When either side hangs up:
  // `keep_flow` false ends the other too (and this flow is gone already: it is destroyed
  // once the bridge is up); true gives the caller back to this flow and calls `done` with
  // who hung up ("caller" never comes back: the call is over).
  virtual bool bridge(const std::string& leg_id, bool keep_flow,
                      std::function<void(std::string_view who)> done);
  // Hang up a dialled leg (the caller's leg: leg().hangup()).
  virtual void hang_up_leg(const std::string& leg_id);
  // Blind transfer of this call's leg to `to` (SIP REFER). `done(status)`: the transferee's
  // result (200: connected; >= 300 failed). On success the leg is hung up.
  virtual void transfer(const std::string& to, std::function<void(int status)> done);
  // This flow's slots as it ends (a flow run on a dialled leg hands them to its parent).
  virtual void flow_finished(const std::map<std::string, std::string>& slots) {}

  // ---- recorded clips (flow step `capture`, "{name:audio}" in texts) ----
  // Keep `clip` under `name`, replacing any clip of that name. A session keeps them
  // session-wide, so a flow run on a dialled leg plays what the caller's flow recorded.
  // The default keeps them in this host: at most kMaxClips (a new name beyond that is
  // dropped), each cut to kMaxClipSeconds. The media thread only.
  static constexpr size_t kMaxClips = 8;
  static constexpr int kMaxClipSeconds = 10;
  virtual void keep_clip(const std::string& name, ClipPtr clip);
  // The clip kept under `name`, or null.
  virtual ClipPtr clip(const std::string& name) const;

 private:
  std::map<std::string, ClipPtr> clips_;
};

// `clip` cut to FlowHost::kMaxClipSeconds (the same clip when it is short enough).
ClipPtr bounded_clip(ClipPtr clip);
// Puts `clip` under `name` in `clips`, bounded as FlowHost::keep_clip says.
void keep_bounded_clip(std::map<std::string, ClipPtr>& clips, const std::string& name,
                       ClipPtr clip);

// A running flow drives one leg. The host calls start() once, then forwards the leg's
// events (the flow is the leg's listener).
class Flow : public LegListener {
 public:
  virtual void start(MonoTime now) = 0;
};

}  // namespace atende::flow
