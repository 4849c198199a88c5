// The ear of a call: one VAD, the end-of-turn detector and the barge-in policy on the
// caller's frames, shared by flows (flow::Listener), the agent and the controller driver.
// It turns frames into these events for its owner:
//
//   speech_started  the caller started a turn (debounced: TurnDetector's rules)
//   short_pause     `short_pause` (200 ms) of silence inside a turn: it may be ending. Once
//                   per pause; `speech_resumed` follows if the caller goes on (and the wait
//                   words set in the pause is forgotten). The agent starts its answer here
//                   speculatively (agent/speculation.h); never a decision by itself.
//   end_of_turn     the silence reached the turn's wait, or the turn its longest
//   barge_in        while playback is on, the caller interrupted it (BargeInPolicy)
//   turn_dropped    an utterance ended over playback without interrupting it: not a turn
//
// Time is kept by timers on the leg's worker (core/timer_queue.h), not by checks on each
// frame: after every frame the end-of-turn and short-pause timers are re-armed for the
// detector's deadlines, and a wait changed by words (set_partial_text, set_end_silence)
// moves the timer at once. An executor without timers gets the same timers run at the end
// of each frame instead (same decisions, up to a frame later).
//
// A turn that ends while playback is on and did not barge in (an "uh-huh", our own echo) is
// not an answer: it is dropped (counted in ignored_over_playback()), never reported.
//
// Seams for what comes next (issue 13): on_partial_text() lets partial transcripts adapt the
// end-of-turn wait and veto or trigger barge-in (backchannel words never interrupt, other
// words do at once); set_end_silence() lets an end-of-turn model choose the wait per
// utterance; short_pause/speech_resumed bracket speculative work.
//
// Threads: everything on the leg's media thread; events are called from on_frame() or from
// a timer, never from another thread. Handlers may call reset(), playback_*() and
// set_end_silence(); they must not destroy the Endpointer. No allocation after construction.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "audio/vad.h"
#include "core/timer_queue.h"
#include "turn/barge_in.h"
#include "turn/turn_detector.h"

namespace atende::turn {

struct EndpointerConfig {
  TurnConfig turn;  // turn.sample_rate: the leg's
  BargeInConfig barge_in;
  Millis short_pause{200};
  Millis words_recheck{400};
};

// What the owner hears. Only on_end_of_turn is required.
class EndpointerEvents {
 public:
  virtual void on_speech_started(const TurnEvent& ev, MonoTime now) {}
  virtual void on_short_pause(MonoTime speech_end, MonoTime now) {}
  virtual void on_speech_resumed(MonoTime now) {}
  virtual void on_end_of_turn(const TurnEvent& ev, MonoTime now) = 0;
  // An utterance ended over our playback without interrupting it (a backchannel, echo):
  // not a turn. Work started for it (a streaming recognition) can stop.
  virtual void on_turn_dropped(MonoTime now) {}
  virtual void on_barge_in(MonoTime now) {}
  // The caller has been talking over our playback for `min_speech` (and every
  // `words_recheck` of speech after that) without interrupting yet: what they say decides
  // (backchannel words never interrupt, others at once). The owner may recognise
  // utterance() and give the words to on_partial_text().
  virtual void on_words_wanted(MonoTime now) {}

 protected:
  ~EndpointerEvents() = default;
};

// WebRTC VAD at 8/16 kHz (falling back to the energy VAD if it cannot start), the energy
// VAD at other rates.
std::unique_ptr<audio::Vad> make_default_vad(int sample_rate);

class Endpointer {
 public:
  // `timers`: the leg's executor's (Executor::timers()); nullptr: see the header comment.
  // Throws std::invalid_argument for a bad TurnConfig or a null VAD.
  Endpointer(EndpointerConfig config, std::unique_ptr<audio::Vad> vad, TimerQueue* timers,
             EndpointerEvents& events);
  Endpointer(const Endpointer&) = delete;
  Endpointer& operator=(const Endpointer&) = delete;

  // Every frame the caller sent (20 ms), in time order.
  void on_frame(const AudioFrame& frame, MonoTime now);

  // Our playback (a prompt, an answer) started / stopped (finished, flushed, or barge-in
  // no longer wanted: the agent is saying goodbye).
  void playback_started(MonoTime now);
  void playback_stopped();
  bool playing() const { return barge_.playing(); }

  // Words recognised so far of the caller's current speech (partial or final transcript):
  // adapts the end-of-turn wait (TurnDetector::set_partial_text) and, during playback,
  // may veto or trigger barge-in (BargeInPolicy::on_text). May call on_barge_in.
  void on_partial_text(std::string_view text, MonoTime now);
  // The end-of-turn wait for the utterance in progress (an external end-of-turn model).
  void set_end_silence(Millis wait);

  // Forget the utterance in progress (a new prompt; the answer was taken). Disarms timers.
  void reset();

  bool speaking() const { return turns_.speaking(); }
  // The last utterance (valid until the next on_frame()).
  std::span<const int16_t> utterance() const { return turns_.utterance(); }
  int sample_rate() const { return turns_.config().sample_rate; }
  const TurnDetector& detector() const { return turns_; }
  const BargeInPolicy& barge_in() const { return barge_; }
  uint64_t ignored_over_playback() const { return ignored_over_playback_; }

 private:
  void rearm();
  void disarm();
  void on_end_timer(MonoTime now);
  void on_pause_timer(MonoTime now);
  void deliver_end(const TurnEvent& ev, MonoTime now);

  EndpointerConfig config_;
  std::unique_ptr<audio::Vad> vad_;
  TurnDetector turns_;
  BargeInPolicy barge_;
  EndpointerEvents& events_;
  // Declared before the timers: destroyed after them (a timer disarms itself on its queue).
  TimerQueue own_timers_{4};
  TimerQueue* timers_;
  Timer end_timer_;
  Timer pause_timer_;
  bool in_stretch_ = false;      // caller speech over our playback, as of the last frame
  Millis next_words_at_{0};      // its speech at the next words_wanted
  bool barged_ = false;          // the current utterance interrupted the playback
  bool pause_reported_ = false;  // short_pause said for the current silence
  uint64_t ignored_over_playback_ = 0;
};

}  // namespace atende::turn
