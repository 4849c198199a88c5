// Text to speech over the OpenAI-compatible `POST {base_url}/v1/audio/speech` with
// {"model", "input", "voice", "response_format": "pcm"}: the server streams raw 16-bit
// little-endian mono PCM (24 kHz for OpenAI; configurable for self-hosted servers), which
// is resampled to the leg's rate and handed over chunk by chunk, so the first audio plays
// while the rest is still being synthesised.
//
// Two ways in:
//  - speak(): streaming, non-blocking, callbacks on the HttpClient's thread (the agent).
//  - synthesize(): the blocking speech::Synthesizer, so the PhraseCache can hold HTTP
//    voices too. Call it on a worker, never on the HttpClient's own thread.
//
//   HttpTts tts(http, {.base_url = "https://api.openai.com", .model = "gpt-4o-mini-tts",
//                      .default_voice = "alloy"});
//   auto s = tts.speak({"Hello!", {"en-us", 165}, 8000},
//                      [&](std::span<const int16_t> pcm) { queue_for_playout(pcm); },
//                      [&](const TtsResult& r) { if (!r.ok) play_fallback(); });
//   s->cancel();   // barge-in
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "net/http_client.h"
#include "speech/streaming_tts.h"
#include "speech/synthesizer.h"

namespace atende::speech {

struct HttpTtsOptions {
  std::string base_url = "https://api.openai.com";  // "/v1" suffix tolerated
  std::string model = "gpt-4o-mini-tts";
  std::string api_key;  // literal; empty: read api_key_env
  std::string api_key_env = "OPENAI_API_KEY";
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  // Phrase::voice.name is an espeak-style language ("en-us", "pt-br") in flows; the
  // provider wants its own voice names. voices maps one to the other; unmapped names use
  // default_voice, unless voice_from_phrase sends Phrase::voice.name as is.
  std::string default_voice = "alloy";
  std::map<std::string, std::string> voices;
  bool voice_from_phrase = false;
  int source_rate = 24000;  // the rate of the PCM the server sends
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds stall_timeout{5000};  // no audio byte for this long
  std::chrono::milliseconds total_timeout{60000};
  int max_retries = 1;  // only before the first audio byte
  size_t max_text_bytes = 4096;
  double max_seconds = 120.0;  // longer answers are cut (error "too long")
};

class HttpTts : public Synthesizer, public StreamingTts {
 public:
  // Throws std::invalid_argument for a source_rate outside 8000..48000.
  HttpTts(net::HttpClient& http, HttpTtsOptions options);

  // Streams `phrase` at phrase.sample_rate (8000..48000). Callbacks on the HTTP thread;
  // on_done exactly once (also for a refused phrase: empty or over-long text, bad rate).
  TtsStreamPtr speak(const Phrase& phrase, TtsAudioCallback on_audio,
                     TtsDoneCallback on_done) override;

  // Blocking whole clip (label = text), nullptr on any failure.
  ClipPtr synthesize(const Phrase& phrase) override;

  // The provider voice used for `voice_name` (see HttpTtsOptions::voices).
  std::string provider_voice(const std::string& voice_name) const;
  // The JSON request body for `phrase`.
  std::string request_body(const Phrase& phrase) const;
  std::string url() const;

 private:
  net::HttpClient& http_;
  HttpTtsOptions options_;
  std::string api_key_;
};

}  // namespace atende::speech
