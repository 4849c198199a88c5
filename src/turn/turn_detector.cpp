#include "turn/turn_detector.h"

#include <algorithm>
#include <stdexcept>

namespace atende::turn {

namespace {

// A candidate that has not become speech within this long is restarted.
constexpr Millis kCandidateWindow{1000};

size_t samples_for(Millis ms, int rate) { return size_t(ms.count()) * size_t(rate) / 1000; }

}  // namespace

TurnDetector::TurnDetector(TurnConfig config) : config_(config), wait_(config.end_silence) {
  if (config_.sample_rate < 8000 || config_.sample_rate > 48000) {
    throw std::invalid_argument("TurnDetector: sample rate must be 8000..48000");
  }
  for (Millis d :
       {config_.min_speech, config_.min_voiced, config_.start_gap, config_.end_silence,
        config_.end_silence_unfinished, config_.end_silence_complete, config_.end_silence_number,
        config_.pre_roll, config_.post_roll, config_.max_utterance}) {
    if (d.count() < 0) throw std::invalid_argument("TurnDetector: negative duration");
  }
  const size_t pre = samples_for(config_.pre_roll, config_.sample_rate);
  post_roll_samples_ = samples_for(config_.post_roll, config_.sample_rate);
  // Room for the pre-roll, max_utterance of audio and one more frame: the frame that
  // reaches the limit is still stored whole.
  utterance_capacity_ =
      pre + samples_for(config_.max_utterance, config_.sample_rate) + size_t(kMaxFrameSamples);
  utterance_.reset(new int16_t[utterance_capacity_]);  // not value-initialised: see the header
  ring_.assign(pre, 0);
}

void TurnDetector::reset() {
  state_ = State::kIdle;
  silent_ = false;
  length_ = 0;
  speech_end_sample_ = 0;
  ended_ = false;
  speech_ms_ = voiced_ms_ = Millis{0};
  wait_ = config_.end_silence;
  ending_ = TurnEnding::kNeutral;
  ring_pos_ = ring_fill_ = 0;
}

Millis TurnDetector::wait_for(TurnEnding ending) const {
  switch (ending) {
    case TurnEnding::kUnfinished:
      return config_.end_silence_unfinished;
    case TurnEnding::kNumber:
      return config_.end_silence_number;
    case TurnEnding::kComplete:
      return config_.end_silence_complete;
    case TurnEnding::kNeutral:
      break;
  }
  return config_.end_silence;
}

void TurnDetector::set_partial_text(std::string_view text) {
  if (state_ == State::kIdle) return;
  ending_ = classify_ending(text);
  wait_ = wait_for(ending_);
}

void TurnDetector::set_end_silence(Millis wait) {
  if (state_ == State::kIdle) return;
  wait_ = std::max(wait, Millis{0});
}

std::span<const int16_t> TurnDetector::utterance() const {
  size_t n = length_;
  // Once the turn has ended, the trailing silence beyond the post-roll is not speech.
  if (ended_) n = std::min(length_, speech_end_sample_ + post_roll_samples_);
  return {utterance_.get(), n};
}

Millis TurnDetector::utterance_duration() const {
  return Millis{int64_t(utterance().size()) * 1000 / config_.sample_rate};
}

void TurnDetector::remember(std::span<const int16_t> pcm) {
  const size_t cap = ring_.size();
  if (cap == 0) return;
  // Only the newest `cap` samples can matter; copy them in at most two runs.
  if (pcm.size() > cap) pcm = pcm.last(cap);
  const size_t first = std::min(pcm.size(), cap - ring_pos_);
  std::copy_n(pcm.data(), first, ring_.data() + ring_pos_);
  std::copy_n(pcm.data() + first, pcm.size() - first, ring_.data());
  ring_pos_ = (ring_pos_ + pcm.size()) % cap;
  ring_fill_ = std::min(cap, ring_fill_ + pcm.size());
}

bool TurnDetector::append(std::span<const int16_t> pcm) {
  const size_t n = std::min(pcm.size(), utterance_capacity_ - length_);
  std::copy_n(pcm.data(), n, utterance_.get() + length_);
  length_ += n;
  return n == pcm.size();
}

void TurnDetector::begin_candidate(const AudioFrame& frame, MonoTime now, bool voiced) {
  // Pre-roll: the ring's contents, oldest first.
  length_ = 0;
  ended_ = false;
  const size_t start = (ring_pos_ + ring_.size() - ring_fill_) % std::max<size_t>(ring_.size(), 1);
  for (size_t i = 0; i < ring_fill_; ++i) utterance_[i] = ring_[(start + i) % ring_.size()];
  length_ = ring_fill_;
  append(frame.data());
  speech_end_sample_ = length_;

  const Millis frame_ms{int64_t(frame.samples) * 1000 / frame.sample_rate};
  state_ = State::kCandidate;
  start_ = last_speech_ = now;
  speech_ms_ = frame_ms;
  voiced_ms_ = voiced ? frame_ms : Millis{0};
  ending_ = TurnEnding::kNeutral;
  wait_ = config_.end_silence;
}

TurnEvent TurnDetector::finish(TurnEndReason reason) {
  TurnEvent ev;
  ev.kind = TurnEventKind::kEndOfTurn;
  ev.speech_start = start_;
  ev.speech_end = last_speech_;
  ev.silence_wait = wait_;
  ev.reason = reason;
  state_ = State::kIdle;
  ended_ = true;
  return ev;
}

std::optional<MonoTime> TurnDetector::end_deadline() const {
  if (state_ != State::kSpeaking) return std::nullopt;
  const MonoTime longest = start_ + config_.max_utterance;
  return silent_ ? std::min(last_speech_ + wait_, longest) : longest;
}

TurnEvent TurnDetector::end_turn(MonoTime now) {
  if (state_ != State::kSpeaking) return {};
  if (now - start_ >= config_.max_utterance) return finish(TurnEndReason::kMaxLength);
  if (silent_ && now - last_speech_ >= wait_) return finish(TurnEndReason::kSilence);
  return {};
}

TurnEvent TurnDetector::on_frame(const AudioFrame& frame, const audio::VadDecision& vad,
                                 MonoTime now) {
  TurnEvent ev;
  if (frame.sample_rate != config_.sample_rate || frame.samples <= 0) return ev;
  const auto pcm = frame.data();
  const Millis frame_ms{int64_t(frame.samples) * 1000 / frame.sample_rate};
  const bool speech = vad.speech && vad.level_dbfs >= config_.min_level_dbfs;
  const bool voiced = speech && vad.voiced();

  switch (state_) {
    case State::kIdle:
      if (speech) begin_candidate(frame, now, voiced);
      break;

    case State::kCandidate:
      if (now - start_ >= kCandidateWindow) {
        // Long "speech" that never turned voiced (hiss, a fan, loud line noise): slide the
        // candidate forward rather than let it hold the buffer from the noise's start.
        state_ = State::kIdle;
        length_ = 0;
        if (speech) begin_candidate(frame, now, voiced);
        break;
      }
      append(pcm);
      if (speech) {
        speech_ms_ += frame_ms;
        if (voiced) voiced_ms_ += frame_ms;
        last_speech_ = now;
        speech_end_sample_ = length_;
      } else if (now - last_speech_ > config_.start_gap) {
        state_ = State::kIdle;  // a blip, not speech: forget it
        length_ = 0;
        break;
      }
      if (speech_ms_ >= config_.min_speech && voiced_ms_ >= config_.min_voiced) {
        state_ = State::kSpeaking;
        silent_ = !speech;
        ev.kind = TurnEventKind::kSpeechStarted;
        ev.speech_start = start_;
      }
      break;

    case State::kSpeaking: {
      const bool fits = append(pcm);
      silent_ = !speech;
      if (speech) {
        last_speech_ = now;
        speech_end_sample_ = length_;
      }
      // Time limits are end_deadline()'s; a full buffer cannot wait for the timer.
      if (!fits) ev = finish(TurnEndReason::kMaxLength);
      break;
    }
  }
  remember(pcm);
  return ev;
}

}  // namespace atende::turn
