// Embedded text-to-speech with espeak-ng (offline, ~1,500x faster than real time).
//
// espeak-ng keeps its engine in process-wide globals (voice, rate, output callback, the
// synthesis buffers), so two synthesis calls must never overlap anywhere in the process,
// whichever EspeakSynthesizer object they come through. Every instance therefore shares
// one process-wide mutex and one engine, initialised once and never torn down (tearing
// it down while another instance lives would break that one). The phrase cache runs
// synthesis on one worker, so in practice the mutex is uncontended.
//
// Example: EspeakSynthesizer tts;   // default data dir
//          ClipPtr clip = tts.synthesize({"press one for sales", {"en-us", 165}, 8000});
#pragma once
#include <cstddef>
#include <string>

#include "audio/resampler.h"
#include "speech/synthesizer.h"

namespace atende::speech {

struct EspeakOptions {
  // The directory that contains the "espeak-ng-data" directory (espeak_Initialize's
  // `path`), e.g. "/usr/lib/x86_64-linux-gnu" on Debian. Empty: espeak-ng's built-in
  // default. Only the first instance created in a process chooses it; a later instance
  // asking for a different one throws.
  std::string data_path;
  // Drop the silence espeak puts before the first word, so the caller hears speech sooner.
  bool trim_leading_silence = true;
  // A 22,050 Hz sample louder than this (about -50 dBFS) is where speech starts.
  int speech_threshold = 100;
  // Keep this much audio before that first loud sample so the onset is not clipped.
  int lead_in_ms = 10;
  // Refuse longer texts (nullptr): one phrase should be a sentence or a short paragraph.
  size_t max_text_bytes = 4000;
  // Stop synthesis beyond this much audio (the clip is returned truncated).
  double max_seconds = 120.0;
  int resampler_quality = audio::kClipResamplerQuality;
};

class EspeakSynthesizer : public Synthesizer {
 public:
  // Throws std::runtime_error if espeak-ng cannot be initialised (data missing, or a
  // different data_path than the one already in use).
  explicit EspeakSynthesizer(EspeakOptions options = {});

  // Blocking. nullptr for empty or over-long text, an unknown voice, a sample rate outside
  // 8000..48000, or an engine error. The clip is mono PCM16 at phrase.sample_rate and its
  // label is the text.
  ClipPtr synthesize(const Phrase& phrase) override;

  // The rate espeak-ng produces before resampling (22,050 Hz).
  static int native_rate();

 private:
  EspeakOptions options_;
};

}  // namespace atende::speech
