#include "speech/espeak_synthesizer.h"

#include <espeak-ng/speak_lib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace atende::speech {
namespace {

// The one espeak-ng engine of this process and the lock that serialises every use of it
// (see the header for why).
struct Engine {
  std::mutex mutex;
  bool initialised = false;
  std::string data_path;
  int sample_rate = 0;
};

Engine& engine() {
  static Engine e;
  return e;
}

// Where the synthesis callback collects samples; passed through espeak's user_data.
struct Collector {
  std::vector<int16_t> pcm;
  size_t max_samples = 0;
  bool truncated = false;
};

int collect(short* wav, int count, espeak_EVENT* events) {
  if (!events) return 0;
  auto* collector = static_cast<Collector*>(events->user_data);
  if (!collector || !wav || count <= 0) return 0;
  const size_t room =
      collector->max_samples - std::min(collector->max_samples, collector->pcm.size());
  const size_t take = std::min(room, static_cast<size_t>(count));
  collector->pcm.insert(collector->pcm.end(), wav, wav + take);
  if (take < static_cast<size_t>(count)) {
    collector->truncated = true;
    return 1;  // abort synthesis
  }
  return 0;
}

// Index of where speech starts, minus the lead-in; 0 if it is silent throughout.
size_t speech_start(const std::vector<int16_t>& pcm, int threshold, size_t lead_in) {
  for (size_t i = 0; i < pcm.size(); ++i) {
    if (std::abs(static_cast<int>(pcm[i])) > threshold) return i > lead_in ? i - lead_in : 0;
  }
  return 0;
}

}  // namespace

EspeakSynthesizer::EspeakSynthesizer(EspeakOptions options) : options_(std::move(options)) {
  Engine& e = engine();
  std::lock_guard lock(e.mutex);
  if (e.initialised) {
    if (e.data_path != options_.data_path) {
      throw std::runtime_error("espeak-ng already initialised with data path '" + e.data_path +
                               "', cannot switch to '" + options_.data_path + "'");
    }
    return;
  }
  // DONT_EXIT: without it espeak-ng calls exit() when its data is missing.
  const int rate =
      espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, /*buflength ms=*/100,
                        options_.data_path.empty() ? nullptr : options_.data_path.c_str(),
                        espeakINITIALIZE_DONT_EXIT);
  if (rate <= 0) {
    throw std::runtime_error("espeak-ng: cannot initialise (data path '" + options_.data_path +
                             "')");
  }
  espeak_SetSynthCallback(&collect);
  e.initialised = true;
  e.data_path = options_.data_path;
  e.sample_rate = rate;
}

int EspeakSynthesizer::native_rate() {
  Engine& e = engine();
  std::lock_guard lock(e.mutex);
  return e.sample_rate;
}

ClipPtr EspeakSynthesizer::synthesize(const Phrase& phrase) {
  if (phrase.text.empty() || phrase.text.size() > options_.max_text_bytes) return nullptr;
  if (phrase.sample_rate < 8000 || phrase.sample_rate > 48000) return nullptr;
  // A voice name is a short identifier; anything else cannot name an espeak voice.
  if (phrase.voice.name.empty() || phrase.voice.name.size() > 64) return nullptr;

  Engine& e = engine();
  Collector collector;
  int native = 0;
  {
    std::lock_guard lock(e.mutex);
    native = e.sample_rate;
    collector.max_samples = static_cast<size_t>(options_.max_seconds * native);
    if (espeak_SetVoiceByName(phrase.voice.name.c_str()) != EE_OK) {
      spdlog::warn("espeak-ng: unknown voice '{}'", phrase.voice.name);
      return nullptr;
    }
    espeak_SetParameter(
        espeakRATE, std::clamp(phrase.voice.rate_wpm, espeakRATE_MINIMUM, espeakRATE_MAXIMUM), 0);
    const espeak_ERROR err = espeak_Synth(phrase.text.c_str(), phrase.text.size() + 1, 0,
                                          POS_CHARACTER, 0, espeakCHARS_UTF8, nullptr, &collector);
    if (err != EE_OK) {
      spdlog::warn("espeak-ng: synthesis failed ({}) for '{}'", static_cast<int>(err), phrase.text);
      return nullptr;
    }
  }
  if (collector.truncated) {
    spdlog::warn("espeak-ng: '{}' truncated at {} s", phrase.text, options_.max_seconds);
  }
  if (collector.pcm.empty()) return nullptr;

  std::span<const int16_t> speech = collector.pcm;
  if (options_.trim_leading_silence) {
    const size_t lead_in = static_cast<size_t>(options_.lead_in_ms) * native / 1000;
    speech = speech.subspan(speech_start(collector.pcm, options_.speech_threshold, lead_in));
  }
  auto clip = std::make_shared<Clip>();
  clip->sample_rate = phrase.sample_rate;
  clip->label = phrase.text;
  clip->pcm =
      audio::Resampler::convert(speech, native, phrase.sample_rate, options_.resampler_quality);
  if (clip->pcm.empty()) return nullptr;
  return clip;
}

}  // namespace atende::speech
