// End of turn: decides, frame by frame, when the caller started speaking and when they
// have finished, from the VAD's per-frame decisions and the frame times. It keeps the
// audio of the current utterance (with a little pre-roll, so the recogniser hears the
// onset) in a buffer allocated once.
//
//   speech starts   after `min_speech` of VAD speech (of which `min_voiced` voiced) with no
//                   gap longer than `start_gap`: a click, a cough or hiss does not start a
//                   turn. The event carries the onset time (the first speech frame).
//   turn ends       after a silence of `end_silence` (600 ms), or `end_silence_unfinished`
//                   (1.2 s) when the words so far trail off ("I'd like to book a table
//                   for..."), `end_silence_complete` (200 ms) after a whole short answer or
//                   a closed sentence ("yes", "não", "What time do you open?"), or
//                   `end_silence_number` (500 ms) after a digit string ("4 5 6", read in
//                   groups): set_partial_text() picks which. An utterance
//                   that reaches `max_utterance` ends the turn at once.
//
// The end of a turn is a matter of time, not of frames: on_frame() never ends a turn on
// silence or length (only when the buffer is full). The owner (turn::Endpointer) arms a
// timer for end_deadline() after each frame and calls end_turn() when it fires, so a
// changed wait (set_partial_text, set_end_silence) takes effect at once and the decision
// does not wait for the next frame.
//
// One detector per call, driven on the media thread: on_frame() every 20 ms with the frame,
// its VAD decision and the leg's `now` (tests use a fake clock). No allocation and no
// locking after construction.
//
// Example:
//   TurnDetector turns({.sample_rate = 8000});
//   turns.on_frame(frame, vad.process(frame), now);
//   if (auto at = turns.end_deadline()) timers.arm(end_timer, *at);
//   ... end_timer fires: if (turns.end_turn(now).kind == TurnEventKind::kEndOfTurn)
//         recognise(copy of turns.utterance());
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "audio/vad.h"
#include "core/audio_frame.h"
#include "core/clock.h"
#include "turn/turn_text.h"

namespace atende::turn {

struct TurnConfig {
  int sample_rate = 8000;  // of the frames fed; others are ignored
  // Speech start (debounce).
  Millis min_speech{100};
  Millis min_voiced{40};
  Millis start_gap{100};
  // Frames quieter than this never count as speech, whatever the VAD says.
  float min_level_dbfs = -50.0f;
  // End of turn: silence after the last speech frame.
  Millis end_silence{600};
  Millis end_silence_unfinished{1200};
  // 200 ms: as soon as the short pause says the caller stopped (turn::Endpointer), so a
  // closed question is answered within ~300 ms of its last word (issue 13's target).
  Millis end_silence_complete{200};
  Millis end_silence_number{500};
  // Audio kept before the first speech frame, and after the last one in utterance().
  Millis pre_roll{200};
  Millis post_roll{200};
  Millis max_utterance{30000};
};

enum class TurnEventKind { kNone, kSpeechStarted, kEndOfTurn };
enum class TurnEndReason { kSilence, kMaxLength };

struct TurnEvent {
  TurnEventKind kind = TurnEventKind::kNone;
  MonoTime speech_start{};  // time of the utterance's first speech frame
  MonoTime speech_end{};    // kEndOfTurn: time of its last speech frame (end of caller speech)
  Millis silence_wait{0};   // kEndOfTurn: the silence that was required
  TurnEndReason reason = TurnEndReason::kSilence;
};

class TurnDetector {
 public:
  enum class State { kIdle, kCandidate, kSpeaking };

  // Throws std::invalid_argument for a rate outside 8000..48000 or negative durations.
  explicit TurnDetector(TurnConfig config = {});

  // One frame (any whole number of ms, normally 20) with its VAD decision, in time order.
  // At most one event per frame: kSpeechStarted, or kEndOfTurn (kMaxLength) when the
  // utterance buffer is full.
  TurnEvent on_frame(const AudioFrame& frame, const audio::VadDecision& vad, MonoTime now);

  // When the utterance in progress ends unless the caller speaks again: its last speech
  // frame + the silence wait while the caller is silent, its start + max_utterance while
  // they speak. nullopt when no utterance is in progress. Changes only on a frame or a new
  // wait, so a timer re-armed after those is enough.
  std::optional<MonoTime> end_deadline() const;
  // The caller is silent after speech of an utterance in progress: since last_speech().
  bool pausing() const { return state_ == State::kSpeaking && silent_; }
  MonoTime last_speech() const { return last_speech_; }
  // The end_deadline() timer fired: kEndOfTurn when the deadline has indeed passed at
  // `now` (kNone for a stale timer or no utterance in progress).
  TurnEvent end_turn(MonoTime now);

  // Words recognised so far in the current utterance (a partial or final transcript): sets
  // the silence wait from classify_ending(). Ignored when no utterance is in progress;
  // every new utterance starts from the default wait.
  void set_partial_text(std::string_view text);
  // Or choose the wait directly (an external end-of-turn model), for this utterance only.
  void set_end_silence(Millis wait);
  Millis end_silence() const { return wait_; }
  TurnEnding ending() const { return ending_; }

  State state() const { return state_; }
  bool speaking() const { return state_ == State::kSpeaking; }

  // The current utterance, or the last one after kEndOfTurn: pre-roll + speech + post-roll,
  // at sample_rate. Valid until the next on_frame() starts a new one: copy it before
  // handing it to a worker.
  std::span<const int16_t> utterance() const;
  Millis utterance_duration() const;

  // Back to idle, forgetting the utterance (a new call; the agent took the floor).
  void reset();

  const TurnConfig& config() const { return config_; }

 private:
  TurnEvent finish(TurnEndReason reason);
  void begin_candidate(const AudioFrame& frame, MonoTime now, bool voiced);
  bool append(std::span<const int16_t> pcm);
  void remember(std::span<const int16_t> pcm);
  Millis wait_for(TurnEnding ending) const;

  TurnConfig config_;
  State state_ = State::kIdle;

  // Candidate / utterance timing.
  MonoTime start_{};
  MonoTime last_speech_{};
  Millis speech_ms_{0};
  Millis voiced_ms_{0};
  Millis wait_;
  bool silent_ = false;  // kSpeaking: the latest frame was not speech
  TurnEnding ending_ = TurnEnding::kNeutral;

  // Utterance audio and the sample just after its last speech frame. Allocated once for the
  // longest turn but left uninitialised: the kernel commits its pages only as a turn first
  // reaches them, so a call costs the memory of its longest turn, not of max_utterance
  // (zero-filling 30 s of audio was ~480 KB of resident memory per agent call).
  std::unique_ptr<int16_t[]> utterance_;
  size_t utterance_capacity_ = 0;
  size_t length_ = 0;
  size_t speech_end_sample_ = 0;
  size_t post_roll_samples_ = 0;
  bool ended_ = false;

  // Ring of the most recent audio, for the pre-roll.
  std::vector<int16_t> ring_;
  size_t ring_pos_ = 0;
  size_t ring_fill_ = 0;
};

}  // namespace atende::turn
