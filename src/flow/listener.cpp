#include "flow/listener.h"

#include <stdexcept>

#include "audio/vad_energy.h"
#include "audio/vad_webrtc.h"

namespace atende::flow {

namespace {
std::unique_ptr<audio::Vad> make_vad(int rate) {
  if (rate == 8000 || rate == 16000) {
    try {
      return std::make_unique<audio::WebRtcVad>(audio::WebRtcVadOptions{.sample_rate = rate});
    } catch (const std::exception&) {
      // Fall through: a level VAD still lets the call go on.
    }
  }
  return std::make_unique<audio::EnergyVad>(audio::EnergyVadOptions{.sample_rate = rate});
}
}  // namespace

Listener::Listener(int sample_rate)
    : vad_(make_vad(sample_rate)),
      turns_(turn::TurnConfig{.sample_rate = sample_rate}),
      // No partial transcripts here: a stretch long enough is an interruption.
      barge_(turn::BargeInConfig{}) {}

void Listener::prompt_started(MonoTime now) { barge_.playback_started(now); }

void Listener::prompt_stopped() { barge_.playback_stopped(); }

void Listener::reset() {
  turns_.reset();
  barged_ = false;
}

Listener::Event Listener::on_frame(const AudioFrame& frame, MonoTime now) {
  audio::VadDecision d = vad_->process(frame);
  if (barge_.playing() && barge_.on_frame(d, now) == turn::BargeInAction::kInterrupt) {
    barged_ = true;
    turns_.on_frame(frame, d, now);
    return Event::kBargeIn;
  }
  turn::TurnEvent ev = turns_.on_frame(frame, d, now);
  if (ev.kind == turn::TurnEventKind::kSpeechStarted) return Event::kSpeechStarted;
  if (ev.kind != turn::TurnEventKind::kEndOfTurn) return Event::kNone;
  if (barge_.playing() && !barged_) {
    turns_.reset();  // a backchannel or echo over the prompt: not an answer
    return Event::kNone;
  }
  barged_ = false;
  return Event::kEndOfTurn;
}

}  // namespace atende::flow
