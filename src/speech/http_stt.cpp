#include "speech/http_stt.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "audio/wav.h"
#include "net/multipart.h"

namespace atende::speech {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// "en-us" -> "en": the API takes ISO 639-1.
std::string iso639(const std::string& language) { return language.substr(0, language.find('-')); }

// Cuts at a UTF-8 character boundary.
std::string cut_utf8(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

}  // namespace

Recognition parse_transcription(const net::HttpResult& result, size_t max_text_bytes) {
  Recognition r;
  r.engine = "http";
  if (!result.ok()) {
    std::string why = result.describe();
    // The provider's error JSON carries the useful part: {"error":{"message":"..."}}.
    auto j = nlohmann::json::parse(result.body, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_object() &&
        j["error"].contains("message") && j["error"]["message"].is_string())
      why = "HTTP " + std::to_string(result.status) + ": " +
            cut_utf8(j["error"]["message"].get<std::string>(), 300);
    r.error = "http stt: " + why;
    return r;
  }
  auto j = nlohmann::json::parse(result.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("text") || !j["text"].is_string()) {
    r.error = "http stt: response is not {\"text\": ...}";
    return r;
  }
  std::string text = cut_utf8(j["text"].get<std::string>(), max_text_bytes);
  // Trim the whitespace Whisper-style servers put around the text.
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  text = first == std::string::npos ? "" : text.substr(first, last - first + 1);
  r.ok = true;
  r.text = text;
  r.confidence = 1;
  r.rejected = text.empty();
  return r;
}

HttpRecognizer::HttpRecognizer(HttpSttOptions options, std::shared_ptr<net::HttpClient> http)
    : options_(std::move(options)), http_(std::move(http)) {
  if (options_.base_url.rfind("http://", 0) != 0 && options_.base_url.rfind("https://", 0) != 0)
    throw std::invalid_argument("http stt: base_url must start with http:// or https://");
  while (!options_.base_url.empty() && options_.base_url.back() == '/')
    options_.base_url.pop_back();
  api_key_ = net::api_key(options_.api_key, options_.api_key_env.c_str());
  if (!http_) http_ = std::make_shared<net::HttpClient>();
}

void HttpRecognizer::recognize(RecognitionRequest request, RecognitionCallback done) {
  const double start = now_seconds();
  // Building the body is a copy of the turn's audio (~160 KB for 10 s at 8 kHz): cheap
  // enough for the caller's thread, and it keeps the request self-contained.
  const std::span<const int16_t> pcm =
      request.pcm ? std::span<const int16_t>(*request.pcm) : std::span<const int16_t>();
  const double audio_seconds =
      request.sample_rate > 0 ? static_cast<double>(pcm.size()) / request.sample_rate : 0;
  if (pcm.empty() || request.sample_rate < 8000 || request.sample_rate > 48000) {
    Recognition r;
    r.engine = "http";
    r.error = "http stt: no audio or unsupported sample rate";
    done(std::move(r));
    return;
  }
  auto wav = audio::encode_wav(pcm, request.sample_rate);
  net::Multipart form;
  form.add_file("file", "audio.wav", "audio/wav",
                std::string_view(reinterpret_cast<const char*>(wav.data()), wav.size()));
  form.add_field("model", options_.model);
  if (!request.language.empty()) form.add_field("language", iso639(request.language));
  form.add_field("response_format", "json");
  if (options_.prompt_hint && !request.expected.empty()) {
    // Whisper-style servers bias towards words in the prompt; a hint, not a grammar.
    std::string hint;
    for (const auto& p : request.expected) {
      if (hint.size() + p.size() > 800) break;
      hint += (hint.empty() ? "" : ", ") + p;
    }
    form.add_field("prompt", hint);
  }
  net::HttpRequest req;
  req.method = "POST";
  req.url = options_.base_url + "/v1/audio/transcriptions";
  req.body = form.finish();
  req.headers.push_back({"Content-Type", form.content_type()});
  if (!api_key_.empty()) req.headers.push_back({"Authorization", "Bearer " + api_key_});
  req.connect_timeout = options_.connect_timeout;
  req.total_timeout = options_.timeout;
  req.idle_timeout = options_.timeout;
  req.max_retries = options_.retries;
  req.max_response_bytes = options_.max_response_bytes;
  const size_t max_text = options_.max_text_bytes;
  http_->request(std::move(req), nullptr,
                 [done = std::move(done), start, audio_seconds, max_text](net::HttpResult res) {
                   Recognition r = parse_transcription(res, max_text);
                   r.audio_seconds = audio_seconds;
                   r.processing_seconds = now_seconds() - start;
                   done(std::move(r));
                 });
}

HttpSttOptions http_stt_options_from(const RecognizerParams& params) {
  HttpSttOptions o;
  auto ms = [](const std::string& key, const std::string& v) {
    try {
      long n = std::stol(v);
      if (n <= 0 || n > 600000) throw std::out_of_range("");
      return std::chrono::milliseconds(n);
    } catch (const std::exception&) {
      throw std::invalid_argument("http stt: bad value '" + v + "' for " + key);
    }
  };
  for (const auto& [key, value] : params) {
    if (key == "base_url")
      o.base_url = value;
    else if (key == "model")
      o.model = value;
    else if (key == "api_key")
      o.api_key = value;
    else if (key == "api_key_env")
      o.api_key_env = value;
    else if (key == "connect_timeout_ms")
      o.connect_timeout = ms(key, value);
    else if (key == "timeout_ms")
      o.timeout = ms(key, value);
    else if (key == "retries") {
      if (value.size() != 1 || value[0] < '0' || value[0] > '3')
        throw std::invalid_argument("http stt: retries must be 0..3");
      o.retries = value[0] - '0';
    } else if (key == "prompt_hint") {
      if (value != "on" && value != "off")
        throw std::invalid_argument("http stt: prompt_hint must be on or off");
      o.prompt_hint = value == "on";
    } else {
      throw std::invalid_argument("http stt: unknown parameter '" + key + "'");
    }
  }
  if (o.base_url.empty()) throw std::invalid_argument("http stt: base_url is required");
  return o;
}

std::unique_ptr<Recognizer> make_http_recognizer(const RecognizerParams& params) {
  return std::make_unique<HttpRecognizer>(http_stt_options_from(params));
}

}  // namespace atende::speech
