#include "turn/endpointer.h"

#include <stdexcept>

#include "audio/vad_energy.h"
#include "audio/vad_webrtc.h"

namespace atende::turn {

std::unique_ptr<audio::Vad> make_default_vad(int rate) {
  if (rate == 8000 || rate == 16000) {
    try {
      return std::make_unique<audio::WebRtcVad>(audio::WebRtcVadOptions{.sample_rate = rate});
    } catch (const std::exception&) {
      // Fall through: a level VAD still lets the call go on.
    }
  }
  return std::make_unique<audio::EnergyVad>(audio::EnergyVadOptions{.sample_rate = rate});
}

Endpointer::Endpointer(EndpointerConfig config, std::unique_ptr<audio::Vad> vad, TimerQueue* timers,
                       EndpointerEvents& events)
    : config_(std::move(config)),
      vad_(std::move(vad)),
      turns_(config_.turn),
      barge_(config_.barge_in),
      events_(events),
      timers_(timers ? timers : &own_timers_),
      end_timer_([this](MonoTime now) { on_end_timer(now); }),
      pause_timer_([this](MonoTime now) { on_pause_timer(now); }) {
  if (!vad_) throw std::invalid_argument("Endpointer: no VAD");
}

void Endpointer::on_frame(const AudioFrame& frame, MonoTime now) {
  const audio::VadDecision d = vad_->process(frame);
  // Barge-in is judged first: the flush happens in the frame that decided it, and the same
  // utterance then goes on to its own end of turn.
  if (barge_.playing() && barge_.on_frame(d, now) == BargeInAction::kInterrupt) {
    barged_ = true;
    events_.on_barge_in(now);
  } else if (barge_.in_stretch()) {
    if (!in_stretch_) next_words_at_ = config_.barge_in.min_speech;  // a new stretch
    in_stretch_ = true;
    if (barge_.stretch_speech() >= next_words_at_) {
      next_words_at_ = barge_.stretch_speech() + config_.words_recheck;
      events_.on_words_wanted(now);
    }
  }
  if (!barge_.in_stretch()) in_stretch_ = false;
  const bool was_pausing = turns_.pausing();
  const TurnEvent ev = turns_.on_frame(frame, d, now);
  if (ev.kind == TurnEventKind::kSpeechStarted) {
    pause_reported_ = false;
    events_.on_speech_started(ev, now);
  } else if (ev.kind == TurnEventKind::kEndOfTurn) {
    deliver_end(ev, now);  // the buffer is full: no timer needed
    return;
  }
  if (was_pausing && turns_.speaking() && !turns_.pausing() && pause_reported_) {
    pause_reported_ = false;
    // Words heard in the pause ("Yes." -> a short wait) no longer describe where the
    // utterance ends: back to the default wait until new words come.
    turns_.set_partial_text("");
    events_.on_speech_resumed(now);
  }
  rearm();
  if (timers_ == &own_timers_) own_timers_.run_due(now);
}

void Endpointer::rearm() {
  const auto end = turns_.end_deadline();
  if (!end) return disarm();
  if (!end_timer_.armed() || end_timer_.deadline() != *end) timers_->arm(end_timer_, *end);
  if (turns_.pausing() && !pause_reported_ && config_.short_pause < turns_.end_silence()) {
    const MonoTime at = turns_.last_speech() + config_.short_pause;
    if (!pause_timer_.armed() || pause_timer_.deadline() != at) timers_->arm(pause_timer_, at);
  } else {
    pause_timer_.cancel();
  }
}

void Endpointer::disarm() {
  end_timer_.cancel();
  pause_timer_.cancel();
}

void Endpointer::on_pause_timer(MonoTime now) {
  if (!turns_.pausing() || pause_reported_) return;
  pause_reported_ = true;
  events_.on_short_pause(turns_.last_speech(), now);
}

void Endpointer::on_end_timer(MonoTime now) {
  const TurnEvent ev = turns_.end_turn(now);
  if (ev.kind != TurnEventKind::kEndOfTurn) return rearm();  // stale: the caller went on
  deliver_end(ev, now);
}

void Endpointer::deliver_end(const TurnEvent& ev, MonoTime now) {
  disarm();
  pause_reported_ = false;
  if (barge_.playing() && !barged_) {
    ++ignored_over_playback_;  // a backchannel or echo over our playback: not an answer
    events_.on_turn_dropped(now);
    return;
  }
  barged_ = false;
  events_.on_end_of_turn(ev, now);
}

void Endpointer::playback_started(MonoTime now) { barge_.playback_started(now); }

void Endpointer::playback_stopped() { barge_.playback_stopped(); }

void Endpointer::on_partial_text(std::string_view text, MonoTime now) {
  if (turns_.state() != TurnDetector::State::kIdle) {
    turns_.set_partial_text(text);
    rearm();
  }
  if (barge_.playing() && barge_.on_text(text, now) == BargeInAction::kInterrupt) {
    barged_ = true;
    events_.on_barge_in(now);
  }
}

void Endpointer::set_end_silence(Millis wait) {
  turns_.set_end_silence(wait);
  rearm();
}

void Endpointer::reset() {
  turns_.reset();
  disarm();
  barged_ = false;
  pause_reported_ = false;
}

}  // namespace atende::turn
