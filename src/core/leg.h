// A Leg is one way audio reaches us: a SIP/RTP call, an AudioSocket connection, an ASP
// WebSocket, a browser. The flow/agent side talks to this interface only and never sees
// SIP or RTP types. All calls happen on the leg's media thread (its Executor), except
// info() and executor(), which are fixed at creation and safe anywhere.
#pragma once
#include <functional>
#include <string>
#include <string_view>

#include "core/audio_frame.h"
#include "core/clip.h"
#include "core/clock.h"
#include "core/timer_queue.h"
#include "core/media_tap.h"

namespace atende {

// A thread that runs work in order: a leg's media worker. Legs of one session share one,
// so a bridge between them copies frames with no lock.
class Executor {
 public:
  virtual ~Executor() = default;
  // Any thread. Runs `fn` on this executor soon, in posting order.
  virtual void post(std::function<void()> fn) = 0;
  // This executor's timers (armed and fired on its thread only), or nullptr when it has
  // none: code that needs one then falls back to checking on each frame (turn::Endpointer).
  virtual TimerQueue* timers() { return nullptr; }
};

enum class LegDirection { kInbound, kOutbound };
inline const char* to_string(LegDirection d) {
  return d == LegDirection::kInbound ? "inbound" : "outbound";
}

// What a leg is, for the session that holds it and the record. Fixed at creation.
struct LegInfo {
  std::string id;    // our call id for this leg (the store's key)
  std::string kind;  // "sip"; later "audiosocket", "asp", "browser", "grpc"
  LegDirection direction = LegDirection::kInbound;
  std::string from;  // e.g. "sip:alice@10.0.0.1"
  std::string to;    // e.g. "sip:ivr@127.0.0.1"
};

// Who said a line of the conversation (Leg::note_transcript, flow::FlowHost).
enum class Speaker { kCaller, kAgent };
inline const char* to_string(Speaker s) { return s == Speaker::kCaller ? "caller" : "agent"; }

// What a leg tells whoever drives it (a flow or the agent). Called on the media thread.
class LegListener {
 public:
  virtual ~LegListener() = default;
  // Every 20 ms while the call is up, with what the far end said in that slot
  // (comfort silence when nothing arrived). `now` is the leg's pacing clock.
  virtual void on_frame(const AudioFrame& heard, MonoTime now) = 0;
  // One key press (0-9, *, #, A-D), already deduplicated.
  virtual void on_dtmf(char digit, MonoTime now) = 0;
  // Everything queued with play()/play_frame() has been sent.
  virtual void on_playout_idle(MonoTime now) {}
  // The far end hung up or the leg failed. No other callback follows.
  virtual void on_hangup(std::string_view reason) = 0;
};

class Leg {
 public:
  virtual ~Leg() = default;
  virtual const LegInfo& info() const = 0;
  // The thread every other method must be called on.
  virtual Executor& executor() = 0;
  // Start media (the call is answered): frames flow to the listener every 20 ms.
  virtual void start() = 0;
  // On this leg's executor: carry on on `executor` from now on (to be bridged with a leg of
  // another session: legs that meet must share one). False when this leg cannot move.
  virtual bool move_to(Executor& executor) { return false; }
  virtual void set_listener(LegListener* listener) = 0;
  // Sample rate of frames delivered by on_frame() and expected by play_frame().
  virtual int sample_rate() const = 0;
  // Queue a clip after whatever is already queued. Clips of another rate are resampled.
  virtual void play(ClipPtr clip) = 0;
  // Queue one live frame (echo, streaming synthesis). Bounded: oldest dropped when full.
  virtual void play_frame(const AudioFrame& frame) = 0;
  // Barge-in: stop what is playing now and drop everything queued.
  virtual void flush() = 0;
  virtual bool playing() const = 0;
  virtual void send_dtmf(char digit) = 0;
  // End the call from our side (BYE for SIP). on_hangup() is not called for it.
  virtual void hangup(std::string_view reason) = 0;
  // A line of the conversation as it happens: what the recogniser took from the caller,
  // what the flow or agent starts to say. A leg whose far end takes text (ASP's
  // "transcripts" feature) passes it on; others ignore it.
  virtual void note_transcript(Speaker who, std::string_view text) {}
  // Call recording: `tap` hears every tick's audio both ways from now on (nullptr: none).
  // Legs that cannot be recorded ignore it.
  virtual void set_media_tap(MediaTap* tap) {}
};

}  // namespace atende
