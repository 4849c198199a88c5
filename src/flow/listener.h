// The ears of ask/confirm/capture steps and spoken menus: a turn::Endpointer (VAD, end of
// turn, barge-in) with the defaults flows use, reporting to the flow.
//
// While the step's prompt plays, caller speech that the barge-in policy judges a real
// interruption (not a backchannel, not noise) is reported once as kBargeIn; the flow then
// flushes the prompt and the same utterance goes on to its end of turn. Turns that end
// during a prompt without having barged in (an "uh-huh") are dropped.
//
// Events come from on_frame() (speech started, barge-in, a turn at its longest) or from the
// end-of-turn timer on the leg's worker, between frames: the handler checks that the flow
// still listens. kShortPause (200 ms of silence inside a turn) and kSpeechResumed (the
// caller went on) bracket the flow's speculative recognition; words() gives its result back,
// so a recognised answer ends the turn sooner (turn/turn_text.h). Allocates once (at construction);
// on_frame() never allocates or blocks.
#pragma once
#include <functional>
#include <span>

#include "core/timer_queue.h"
#include "turn/endpointer.h"

namespace atende::flow {

class Listener final : private turn::EndpointerEvents {
 public:
  enum class Event { kSpeechStarted, kBargeIn, kEndOfTurn, kShortPause, kSpeechResumed };
  using Handler = std::function<void(Event, MonoTime)>;

  // WebRTC VAD at 8/16 kHz, the energy VAD at other rates. `timers`: the leg's executor's
  // (nullptr: checked each frame).
  Listener(int sample_rate, TimerQueue* timers, Handler on_event);

  // A prompt starts / stopped (finished or flushed).
  void prompt_started(MonoTime now) { ear_.playback_started(now); }
  void prompt_stopped() { ear_.playback_stopped(); }
  // Forget any utterance in progress (a new step, or the answer was taken).
  void reset() { ear_.reset(); }

  void on_frame(const AudioFrame& frame, MonoTime now) { ear_.on_frame(frame, now); }
  // What the utterance so far says (a recognition made at a short pause).
  void words(std::string_view text, MonoTime now) { ear_.on_partial_text(text, now); }
  bool speaking() const { return ear_.speaking(); }
  // The last utterance (valid until the next on_frame()).
  std::span<const int16_t> utterance() const { return ear_.utterance(); }
  int sample_rate() const { return ear_.sample_rate(); }

 private:
  void on_speech_started(const turn::TurnEvent&, MonoTime now) override {
    on_event_(Event::kSpeechStarted, now);
  }
  void on_barge_in(MonoTime now) override { on_event_(Event::kBargeIn, now); }
  void on_short_pause(MonoTime, MonoTime now) override { on_event_(Event::kShortPause, now); }
  void on_speech_resumed(MonoTime now) override { on_event_(Event::kSpeechResumed, now); }
  void on_end_of_turn(const turn::TurnEvent&, MonoTime now) override {
    on_event_(Event::kEndOfTurn, now);
  }

  Handler on_event_;
  turn::Endpointer ear_;
};

}  // namespace atende::flow
