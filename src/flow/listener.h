// The ears of ask/confirm steps: a VAD, the end-of-turn detector and the barge-in policy
// on the caller's frames. Allocates once (at construction); on_frame() is the per-frame
// path: no allocation, no blocking.
//
// While the step's prompt plays, caller speech that the barge-in policy judges a real
// interruption (not a backchannel, not noise) is reported once as kBargeIn; the flow then
// flushes the prompt and the same utterance goes on to its end of turn. Turns that end
// during a prompt without having barged in (an "uh-huh") are dropped.
#pragma once
#include <memory>

#include "audio/vad.h"
#include "turn/barge_in.h"
#include "turn/turn_detector.h"

namespace atende::flow {

class Listener {
 public:
  enum class Event { kNone, kSpeechStarted, kBargeIn, kEndOfTurn };

  // WebRTC VAD at 8/16 kHz, the energy VAD at other rates.
  explicit Listener(int sample_rate);

  // A prompt starts / stopped (finished or flushed).
  void prompt_started(MonoTime now);
  void prompt_stopped();
  // Forget any utterance in progress (a new step, or the answer was taken).
  void reset();

  Event on_frame(const AudioFrame& frame, MonoTime now);
  bool speaking() const { return turns_.speaking(); }
  // The last utterance (valid until the next on_frame()).
  std::span<const int16_t> utterance() const { return turns_.utterance(); }
  int sample_rate() const { return turns_.config().sample_rate; }

 private:
  std::unique_ptr<audio::Vad> vad_;
  turn::TurnDetector turns_;
  turn::BargeInPolicy barge_;
  bool barged_ = false;  // the current utterance interrupted the prompt
};

}  // namespace atende::flow
