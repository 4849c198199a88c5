#include "speech/http_tts.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "audio/resampler.h"

namespace atende::speech {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// One streamed phrase. HTTP callbacks own the decoding state; cancel() touches atomics only.
class Stream : public TtsStream, public std::enable_shared_from_this<Stream> {
 public:
  Stream(net::HttpClient& http, int from_rate, int to_rate, TtsAudioCallback on_audio,
         TtsDoneCallback on_done)
      : http_(http), on_audio_(std::move(on_audio)), on_done_(std::move(on_done)) {
    if (from_rate != to_rate) {
      resampler_.emplace(from_rate, to_rate);
      // A network chunk is rarely over 64 KB; bigger ones are processed in slices.
      out_.resize(resampler_->max_output(kSliceSamples) + 16);
    }
    in_.reserve(kSliceSamples);
  }

  void cancel() override {
    cancelled_.store(true);
    if (const auto id = id_.load(); id != 0) http_.cancel(id);
  }

  // The phrase cannot be spoken: on_done still comes from the HTTP thread, with this reason.
  void refuse(std::string reason) { refused_ = std::move(reason); }

  void start(net::HttpRequest req) {
    auto self = shared_from_this();
    const auto id = http_.request(
        std::move(req), [self](std::string_view chunk) { return self->on_data(chunk); },
        [self](net::HttpResult r) { self->on_done(std::move(r)); });
    id_.store(id);
    if (cancelled_.load()) http_.cancel(id);
  }

 private:
  static constexpr size_t kSliceSamples = 8192;

  bool on_data(std::string_view chunk) {
    if (cancelled_.load()) return false;
    size_t i = 0;
    // A sample split across two network chunks: join its bytes.
    if (carry_ && !chunk.empty()) {
      in_.push_back(static_cast<int16_t>(static_cast<uint8_t>(carry_byte_) |
                                         (static_cast<uint8_t>(chunk[0]) << 8)));
      carry_ = false;
      i = 1;
    }
    while (i + 1 < chunk.size()) {
      in_.push_back(static_cast<int16_t>(static_cast<uint8_t>(chunk[i]) |
                                         (static_cast<uint8_t>(chunk[i + 1]) << 8)));
      i += 2;
      if (in_.size() == kSliceSamples) deliver();
    }
    if (i < chunk.size()) {
      carry_ = true;
      carry_byte_ = chunk[i];
    }
    deliver();
    return !cancelled_.load();
  }

  void deliver() {
    if (in_.empty()) return;
    if (!resampler_) {
      emit(in_);
    } else {
      std::span<const int16_t> rest = in_;
      while (!rest.empty()) {
        const auto r = resampler_->process(rest, out_);
        if (r.written) emit(std::span<const int16_t>(out_.data(), r.written));
        if (r.consumed == 0 && r.written == 0) break;
        rest = rest.subspan(r.consumed);
      }
    }
    in_.clear();
  }

  // Push the resampler's last samples out with a little silence.
  void flush() {
    if (!resampler_) return;
    in_.assign(static_cast<size_t>(resampler_->from_rate() / 100), 0);  // 10 ms
    deliver();
  }

  void emit(std::span<const int16_t> pcm) {
    if (pcm.empty() || cancelled_.load()) return;
    if (first_audio_ < 0) first_audio_ = since(created_);
    samples_ += pcm.size();
    if (on_audio_) on_audio_(pcm);
  }

  void on_done(net::HttpResult r) {
    TtsResult result;
    result.http_status = r.status;
    if (!refused_.empty()) {
      result.error = refused_;
    } else if (cancelled_.load() || r.error == net::HttpError::cancelled ||
               r.error == net::HttpError::shutdown) {
      result.cancelled = true;
      result.error = "cancelled";
    } else if (!r.ok()) {
      result.error = r.error == net::HttpError::too_large ? "answer too long" : r.describe();
    } else if (r.bytes_received == 0) {
      result.error = "empty audio";
    } else {
      flush();
      result.ok = true;
    }
    result.first_audio_seconds = first_audio_;
    result.samples = samples_;
    result.seconds = since(created_);
    if (on_done_) on_done_(result);
  }

  net::HttpClient& http_;
  TtsAudioCallback on_audio_;
  TtsDoneCallback on_done_;
  std::atomic<bool> cancelled_{false};
  std::atomic<net::HttpRequestId> id_{0};
  const Clock::time_point created_ = Clock::now();
  // HTTP thread only:
  std::optional<audio::Resampler> resampler_;
  std::vector<int16_t> in_;
  std::vector<int16_t> out_;
  std::string refused_;
  bool carry_ = false;
  char carry_byte_ = 0;
  double first_audio_ = -1;
  size_t samples_ = 0;
};

std::string v1_url(std::string base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (!base.ends_with("/v1")) base += "/v1";
  return base + "/" + std::string(path);
}

bool rate_ok(int rate) { return rate >= 8000 && rate <= 48000; }

}  // namespace

HttpTts::HttpTts(net::HttpClient& http, HttpTtsOptions options)
    : http_(http), options_(std::move(options)) {
  if (!rate_ok(options_.source_rate)) {
    throw std::invalid_argument("http tts: source_rate must be 8000..48000");
  }
  api_key_ = net::api_key(options_.api_key,
                          options_.api_key_env.empty() ? nullptr : options_.api_key_env.c_str());
}

std::string HttpTts::url() const { return v1_url(options_.base_url, "audio/speech"); }

std::string HttpTts::provider_voice(const std::string& voice_name) const {
  if (auto it = options_.voices.find(voice_name); it != options_.voices.end()) return it->second;
  if (options_.voice_from_phrase && !voice_name.empty()) return voice_name;
  return options_.default_voice;
}

std::string HttpTts::request_body(const Phrase& phrase) const {
  nlohmann::json j = {{"model", options_.model},
                      {"input", phrase.text},
                      {"voice", provider_voice(phrase.voice.name)},
                      {"response_format", "pcm"}};
  // speed is relative to the provider's normal pace; 165 wpm is our (espeak's) normal.
  if (phrase.voice.rate_wpm != Voice{}.rate_wpm && phrase.voice.rate_wpm > 0) {
    j["speed"] = std::clamp(phrase.voice.rate_wpm / double(Voice{}.rate_wpm), 0.25, 4.0);
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TtsStreamPtr HttpTts::speak(const Phrase& phrase, TtsAudioCallback on_audio,
                            TtsDoneCallback on_done) {
  std::string refused;
  if (phrase.text.empty()) refused = "empty text";
  if (phrase.text.size() > options_.max_text_bytes) refused = "text too long";
  if (!rate_ok(phrase.sample_rate)) refused = "unsupported sample rate";
  auto stream = std::make_shared<Stream>(
      http_, options_.source_rate,
      rate_ok(phrase.sample_rate) ? phrase.sample_rate : options_.source_rate, std::move(on_audio),
      std::move(on_done));
  net::HttpRequest req;
  req.method = "POST";
  req.url = url();
  req.headers = {{"Content-Type", "application/json"}};
  if (!api_key_.empty()) req.headers.emplace_back("Authorization", "Bearer " + api_key_);
  for (const auto& h : options_.headers) req.headers.push_back(h);
  req.body = request_body(phrase);
  req.connect_timeout = options_.connect_timeout;
  req.idle_timeout = options_.stall_timeout;
  req.total_timeout = options_.total_timeout;
  req.max_retries = options_.max_retries;
  req.max_response_bytes = static_cast<size_t>(options_.max_seconds * options_.source_rate) * 2;
  if (!refused.empty()) {
    stream->refuse(refused);
    req.url = "refused:";  // never sent: the client answers invalid, on its thread
  }
  stream->start(std::move(req));
  return stream;
}

ClipPtr HttpTts::synthesize(const Phrase& phrase) {
  auto clip = std::make_shared<Clip>();
  clip->sample_rate = phrase.sample_rate;
  clip->label = phrase.text;
  std::promise<bool> done;
  auto finished = done.get_future();
  // The stream's callbacks run on the HTTP thread while we wait here.
  speak(
      phrase,
      [&clip](std::span<const int16_t> pcm) {
        clip->pcm.insert(clip->pcm.end(), pcm.begin(), pcm.end());
      },
      [&done](const TtsResult& r) { done.set_value(r.ok); });
  if (!finished.get() || clip->pcm.empty()) return nullptr;
  return clip;
}

}  // namespace atende::speech
