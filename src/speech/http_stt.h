// Speech to text over HTTP: the OpenAI-compatible POST {base_url}/v1/audio/transcriptions
// (OpenAI, Groq, a self-hosted faster-whisper / whisper.cpp server ...).
//
//   multipart/form-data: file=<WAV, filename audio.wav>, model=<model>, language=<xx>,
//                        response_format=json[, prompt=<expected phrases, as a hint>]
//   200 {"text": "..."}  -> Recognition{ok, text}
//
// Runs on the shared net::HttpClient thread (never blocks the caller). Connect and read
// timeouts, one retry on a refused connection or a 5xx/429 (a transcription has no side
// effects, so repeating it is safe), bounded response size, the API key from config or
// the environment. Errors come back as Recognition{ok=false, error="http stt: ..."}.
//
// Config (engine "http"): base_url (required), model ("whisper-1"), api_key, api_key_env
// ("OPENAI_API_KEY"), connect_timeout_ms (2000), timeout_ms (8000), retries (1),
// prompt_hint ("on": send expected phrases as `prompt`).
#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "net/http_client.h"
#include "speech/recognizer.h"

namespace atende::speech {

struct HttpSttOptions {
  std::string base_url;  // "https://api.openai.com" or "http://127.0.0.1:8000"; no /v1
  std::string model = "whisper-1";
  std::string api_key;  // empty: read api_key_env
  std::string api_key_env = "OPENAI_API_KEY";
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds timeout{8000};  // whole request, retry included
  int retries = 1;
  bool prompt_hint = true;
  size_t max_response_bytes = 256 * 1024;
  size_t max_text_bytes = 4096;  // longer transcripts are cut
};

class HttpRecognizer : public Recognizer {
 public:
  // `http` may be shared with other engines; nullptr makes a private client.
  explicit HttpRecognizer(HttpSttOptions options, std::shared_ptr<net::HttpClient> http = {});
  void recognize(RecognitionRequest request, RecognitionCallback done) override;
  bool uses_grammar() const override { return false; }

 private:
  HttpSttOptions options_;
  std::string api_key_;
  std::shared_ptr<net::HttpClient> http_;
};

// Parses a transcription response body. ok with text, or an error message.
Recognition parse_transcription(const net::HttpResult& result, size_t max_text_bytes);

HttpSttOptions http_stt_options_from(const RecognizerParams& params);

}  // namespace atende::speech
