#include "speech/openai_stt.h"

#include <spdlog/spdlog.h>

#include "audio/resampler.h"

namespace atende::speech {

namespace {

constexpr const char* kEngine = "openai_realtime_stt";

class OpenAiSttProtocol : public WsStreamProtocol {
 public:
  OpenAiSttProtocol(const OpenAiSttOptions& options, const StreamRequest& request)
      : session_(options.session),
        up_(request.sample_rate, wire::kOpenAiRate),
        out_(up_.max_output(static_cast<size_t>(request.sample_rate) / 5)) {
    if (session_.language.empty() && !request.language.empty() && request.language != "en") {
      session_.language = request.language.substr(0, 2);  // ISO-639-1, as the API wants
    }
    if (options.prompt_hint && session_.prompt.empty()) {
      for (const auto& p : request.expected) {
        if (session_.prompt.size() + p.size() + 2 > 1000) break;
        session_.prompt += (session_.prompt.empty() ? "" : ", ") + p;
      }
    }
  }

  void on_open(net::WsConnection& ws) override {
    ws.send_text(wire::openai_stt_session_update(session_));
  }

  void send_audio(std::span<const int16_t> pcm, net::WsConnection& ws) override {
    // The batch is at most send_every_ms; out_ holds 200 ms, so one pass is enough, but
    // loop for safety.
    while (!pcm.empty()) {
      const auto r = up_.process(pcm, out_);
      if (r.written) ws.send_text(wire::openai_audio_append({out_.data(), r.written}));
      if (r.consumed == 0) break;
      pcm = pcm.subspan(r.consumed);
    }
  }

  void send_finish(net::WsConnection& ws) override { ws.send_text(wire::openai_audio_commit()); }

  Outcome on_text(std::string_view text, bool finish_sent) override {
    std::string why;
    auto ev = wire::parse_openai_stt_event(text, &why);
    Outcome o;
    if (!ev) {
      // A malformed event is the server's bug: ignored (bounded logging), the stream goes on.
      if (++bad_events_ <= 3) spdlog::warn("{}: ignored an event ({})", kEngine, why);
      return o;
    }
    using wire::Kind;
    switch (ev->kind) {
      case Kind::kCommitted:
        committed_item_ = ev->item_id;
        return o;
      case Kind::kDelta:
        if (ev->item_id != delta_item_) {
          delta_item_ = ev->item_id;
          text_.clear();
        }
        if (text_.size() + ev->text.size() > wire::kMaxTranscriptBytes) return o;
        text_ += ev->text;
        return partial(text_);
      case Kind::kCompleted:
        // Before our commit (a server with its own turn detection): a partial at most.
        if (!finish_sent) return partial(ev->text);
        if (!committed_item_.empty() && ev->item_id != committed_item_) return o;
        o.kind = Outcome::Kind::kFinal;
        o.final.ok = true;
        o.final.text = ev->text;
        o.final.confidence = 1;
        o.final.rejected = ev->text.find_first_not_of(" \t\r\n") == std::string::npos;
        return o;
      case Kind::kFailed:
        o.kind = Outcome::Kind::kFinal;
        o.final.error = "transcription failed: " + ev->code + " " + ev->message;
        return o;
      case Kind::kError:
        o.kind = Outcome::Kind::kFinal;
        if (ev->code == "input_audio_buffer_commit_empty") {
          o.final.ok = true;  // nothing (or too little) was said
          o.final.rejected = true;
          return o;
        }
        o.final.error = "server error: " + ev->code + " " + ev->message;
        return o;
      default:
        return o;
    }
  }

 private:
  static Outcome partial(const std::string& text) {
    Outcome o;
    o.kind = Outcome::Kind::kPartial;
    o.partial = text;
    return o;
  }

  wire::OpenAiSttSession session_;
  audio::Resampler up_;
  std::vector<int16_t> out_;
  std::string committed_item_;
  std::string delta_item_;
  std::string text_;
  int bad_events_ = 0;
};

}  // namespace

OpenAiSttOptions openai_stt_options_from(const RecognizerParams& params) {
  RecognizerParams rest = params;
  OpenAiSttOptions o;
  o.ws = ws_stream_options_from(kEngine, rest, "OPENAI_API_KEY", "Bearer");
  auto take = [&](const char* key) { return take_param(rest, key); };
  auto word = [](const char* key, const std::string& v) {
    return word_param(kEngine, key, v, "-_.:");
  };
  if (auto v = take("model")) o.session.model = word("model", *v);
  if (auto v = take("language")) o.session.language = word("language", *v);
  if (auto v = take("api")) {
    if (*v != "ga" && *v != "beta")
      throw std::invalid_argument(std::string(kEngine) + ": api must be ga or beta");
    o.session.beta = *v == "beta";
  }
  if (auto v = take("prompt_hint")) {
    if (*v != "on" && *v != "off")
      throw std::invalid_argument(std::string(kEngine) + ": prompt_hint must be on or off");
    o.prompt_hint = *v == "on";
  }
  refuse_unknown(kEngine, rest);
  return o;
}

std::unique_ptr<WsStreamRecognizer> make_openai_stt(OpenAiSttOptions options) {
  auto shared = std::make_shared<const OpenAiSttOptions>(options);
  return std::make_unique<WsStreamRecognizer>(
      kEngine, options.ws, [shared](const StreamRequest& request) {
        return std::make_unique<OpenAiSttProtocol>(*shared, request);
      });
}

std::unique_ptr<StreamingRecognizer> make_openai_realtime_stt(const RecognizerParams& params) {
  return make_openai_stt(openai_stt_options_from(params));
}

}  // namespace atende::speech
