#include "turn/barge_in.h"

#include <algorithm>

#include "turn/turn_text.h"

namespace atende::turn {

std::vector<std::string> default_backchannels() {
  return {// English
          "uh-huh", "uh", "huh", "mm-hmm", "mhm", "mm", "hmm", "hm", "ok", "okay", "yeah", "yes",
          "yep", "right", "sure", "alright", "i", "see", "got", "it", "oh", "ah",
          // Portuguese
          "sim", "uhum", "uh-hum", "aham", "ahã", "tá", "ta", "certo", "hum", "é", "isso",
          "entendi", "beleza", "bom", "ah", "hã", "claro"};
}

bool is_backchannel(std::string_view text, const std::vector<std::string>& backchannels) {
  const auto words = split_words(text);
  if (words.empty()) return false;
  return std::all_of(words.begin(), words.end(), [&](const std::string& w) {
    return std::find(backchannels.begin(), backchannels.end(), w) != backchannels.end();
  });
}

BargeInPolicy::BargeInPolicy(BargeInConfig config) : config_(std::move(config)) {}

void BargeInPolicy::playback_started(MonoTime now) {
  playing_ = true;
  interrupted_ = false;
  in_segment_ = false;
  recent_qualified_ = false;
  speech_ms_ = voiced_ms_ = Millis{0};
  text_ = TextKind::kNone;
  verdict_ = BargeInVerdict::kNone;
}

void BargeInPolicy::playback_stopped() {
  playing_ = false;
  in_segment_ = false;
  recent_qualified_ = false;
}

BargeInAction BargeInPolicy::interrupt() {
  interrupted_ = true;
  playing_ = false;
  in_segment_ = false;
  recent_qualified_ = false;
  verdict_ = BargeInVerdict::kInterrupted;
  return BargeInAction::kInterrupt;
}

void BargeInPolicy::end_segment(MonoTime now) {
  in_segment_ = false;
  const bool voice = speech_ms_ >= config_.min_speech && voiced_ms_ >= config_.min_voiced;
  if (!voice) {
    verdict_ = BargeInVerdict::kNoise;
    ++ignored_noise_;
  } else {
    // Long enough to be a voice, too short to interrupt on length, and no words (yet) or
    // only backchannel words. Late words may still turn it into an interruption.
    verdict_ =
        text_ == TextKind::kBackchannel ? BargeInVerdict::kBackchannel : BargeInVerdict::kUndecided;
    ++ignored_backchannels_;
    recent_qualified_ = text_ != TextKind::kBackchannel;
    recent_end_ = now;
  }
  text_ = TextKind::kNone;
}

BargeInAction BargeInPolicy::decide(MonoTime now) {
  if (!in_segment_) return BargeInAction::kKeepPlaying;
  const bool voice = speech_ms_ >= config_.min_speech && voiced_ms_ >= config_.min_voiced;
  if (!voice) return BargeInAction::kKeepPlaying;
  switch (text_) {
    case TextKind::kWords:
      return interrupt();
    case TextKind::kBackchannel:
      verdict_ = BargeInVerdict::kBackchannel;
      return BargeInAction::kKeepPlaying;
    case TextKind::kNone:
      break;
  }
  if (speech_ms_ >= config_.interrupt_without_text) return interrupt();
  verdict_ = BargeInVerdict::kUndecided;
  return BargeInAction::kKeepPlaying;
}

BargeInAction BargeInPolicy::on_frame(const audio::VadDecision& vad, MonoTime now, Millis frame) {
  if (!playing_) return BargeInAction::kKeepPlaying;
  const bool speech = vad.speech && vad.level_dbfs >= config_.min_level_dbfs;
  if (speech) {
    if (!in_segment_) {
      in_segment_ = true;
      speech_ms_ = voiced_ms_ = Millis{0};
      text_ = TextKind::kNone;
    }
    speech_ms_ += frame;
    if (vad.voiced()) voiced_ms_ += frame;
    last_speech_ = now;
    return decide(now);
  }
  if (in_segment_ && now - last_speech_ >= config_.segment_gap) end_segment(now);
  if (recent_qualified_ && now - recent_end_ > config_.late_text) recent_qualified_ = false;
  return BargeInAction::kKeepPlaying;
}

BargeInAction BargeInPolicy::on_text(std::string_view text, MonoTime now) {
  if (!playing_) return BargeInAction::kKeepPlaying;
  const auto words = split_words(text);
  if (words.empty()) return BargeInAction::kKeepPlaying;  // nothing recognised: no news
  const TextKind kind =
      is_backchannel(text, config_.backchannels) ? TextKind::kBackchannel : TextKind::kWords;
  if (in_segment_) {
    text_ = kind;
    return decide(now);
  }
  // Words for a stretch that already ended without interrupting on length.
  if (kind == TextKind::kWords && recent_qualified_ && now - recent_end_ <= config_.late_text) {
    return interrupt();
  }
  return BargeInAction::kKeepPlaying;
}

}  // namespace atende::turn
