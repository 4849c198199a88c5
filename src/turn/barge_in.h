// Barge-in: while the agent is talking, should the caller's voice stop it? Yes for a real
// interruption ("wait, that's not my address"); no for a backchannel ("uh-huh", "ok",
// "aham", "tá") that only says "go on", for noise, and for our own prompt leaking back as
// a quiet echo. The policy answers kInterrupt at most once per playback; the caller then
// flushes the leg (Leg::flush) in the same frame, and trims the conversation history to
// what was heard (barge_in_heard.h).
//
// Rules, per stretch of caller speech while playing (a stretch ends after `segment_gap`
// of silence):
//   - frames count as speech when the VAD says so and they are at least `min_level_dbfs`
//     loud; a stretch needs `min_voiced` of voiced frames (a vowel) to be a voice at all;
//   - shorter than `min_speech`: never interrupts (clicks, coughs, noise);
//   - recognised words that are not all backchannel words: interrupt as soon as the stretch
//     is long enough (or at once if it already is). Words arriving just after a qualifying
//     stretch ended (`late_text`) still interrupt;
//   - text that is only backchannel words: keep playing;
//   - no text yet: keep playing until the stretch is `interrupt_without_text` long (longer
//     than any backchannel), then interrupt on length alone. Without a recogniser for
//     overlapping speech set it equal to min_speech.
//
// Driven on the media thread: on_frame() every frame while playing, on_text() when the
// recogniser reports (posted back to the media thread). No allocation in on_frame().
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audio/vad.h"
#include "core/audio_frame.h"
#include "core/clock.h"

namespace atende::turn {

// "uh-huh", "mm-hmm", "ok", "yeah", "right", "sim", "uhum", "aham", "tá", "certo", ...
std::vector<std::string> default_backchannels();

// True when `text` has words and every one is in `backchannels` (lower-case, as
// split_words() produces): "uh huh", "ok ok", "tá bom" with "bom" listed.
bool is_backchannel(std::string_view text, const std::vector<std::string>& backchannels);

struct BargeInConfig {
  Millis min_speech{300};
  Millis min_voiced{60};
  Millis interrupt_without_text{700};
  Millis segment_gap{300};
  Millis late_text{1000};
  float min_level_dbfs = -40.0f;
  std::vector<std::string> backchannels = default_backchannels();
};

enum class BargeInAction { kKeepPlaying, kInterrupt };

// Why a stretch of caller speech did or did not interrupt (for logs and tests).
enum class BargeInVerdict { kNone, kNoise, kBackchannel, kUndecided, kInterrupted };

class BargeInPolicy {
 public:
  explicit BargeInPolicy(BargeInConfig config = {});

  // A new answer starts playing / playback ended (finished or flushed).
  void playback_started(MonoTime now);
  void playback_stopped();
  bool playing() const { return playing_; }
  bool interrupted() const { return interrupted_; }

  // Every frame (of `frame` length) while playing; kInterrupt once, on the frame the
  // decision is made. Frames while not playing are ignored.
  BargeInAction on_frame(const audio::VadDecision& vad, MonoTime now,
                         Millis frame = Millis{kFrameMs});
  // Recognised text of the caller's overlapping speech (partial or final).
  BargeInAction on_text(std::string_view text, MonoTime now);

  // The verdict on the latest stretch (current or just ended).
  BargeInVerdict last_verdict() const { return verdict_; }
  // A stretch of caller speech is going on over the playback: its speech so far.
  bool in_stretch() const { return playing_ && in_segment_; }
  Millis stretch_speech() const { return speech_ms_; }
  // Stretches let through during this policy's life: too short or not voiced (noise), and
  // voices that did not interrupt (backchannel words, or short with no words).
  uint64_t ignored_noise() const { return ignored_noise_; }
  uint64_t ignored_backchannels() const { return ignored_backchannels_; }

  const BargeInConfig& config() const { return config_; }

 private:
  enum class TextKind { kNone, kBackchannel, kWords };
  BargeInAction decide(MonoTime now);
  void end_segment(MonoTime now);
  BargeInAction interrupt();

  BargeInConfig config_;
  bool playing_ = false;
  bool interrupted_ = false;

  bool in_segment_ = false;
  MonoTime last_speech_{};
  Millis speech_ms_{0};
  Millis voiced_ms_{0};
  TextKind text_ = TextKind::kNone;

  // The stretch that just ended long enough to be a voice, for late text.
  bool recent_qualified_ = false;
  MonoTime recent_end_{};

  BargeInVerdict verdict_ = BargeInVerdict::kNone;
  uint64_t ignored_noise_ = 0;
  uint64_t ignored_backchannels_ = 0;
};

}  // namespace atende::turn
