#include "speech/ws_stream_stt.h"

#include <spdlog/spdlog.h>

#include "speech/stt_wire.h"

namespace atende::speech {

namespace {

constexpr const char* kEngine = "ws_stream";

class DeepgramProtocol : public WsStreamProtocol {
 public:
  DeepgramProtocol(const WsStreamSttOptions& options, const StreamRequest& request)
      : options_(options), rate_(request.sample_rate) {
    bytes_.reserve(static_cast<size_t>(rate_) / 5 * 2);
  }

  std::string target(const std::string& configured) override {
    return listen_target(configured, options_, rate_);
  }

  void send_audio(std::span<const int16_t> pcm, net::WsConnection& ws) override {
    bytes_.clear();
    for (int16_t s : pcm) {  // linear16 is little-endian, whatever the host order
      bytes_.push_back(static_cast<char>(uint16_t(s) & 0xff));
      bytes_.push_back(static_cast<char>(uint16_t(s) >> 8));
    }
    ws.send_binary(bytes_);
  }

  void send_finish(net::WsConnection& ws) override { ws.send_text(wire::listen_close_stream()); }

  Outcome on_text(std::string_view text, bool finish_sent) override {
    std::string why;
    auto ev = wire::parse_listen_event(text, &why);
    Outcome o;
    if (!ev) {
      if (++bad_events_ <= 3) spdlog::warn("{}: ignored a message ({})", kEngine, why);
      return o;
    }
    switch (ev->kind) {
      case wire::Kind::kResults: {
        if (ev->is_final) {
          append(finals_, ev->text);
          interim_.clear();
          if (ev->text.empty()) return o;
          confidence_ = std::min(confidence_, ev->confidence);
        } else {
          interim_ = ev->text;
        }
        std::string now = finals_;
        append(now, interim_);
        o.kind = Outcome::Kind::kPartial;
        o.partial = std::move(now);
        return o;
      }
      case wire::Kind::kMetadata:
        if (finish_sent) return final_outcome();
        return o;
      case wire::Kind::kError:
        o.kind = Outcome::Kind::kFinal;
        o.final.error = "server error: " + ev->code + " " + ev->message;
        return o;
      default:
        return o;
    }
  }

  Outcome on_server_closed(const std::string& why, bool finish_sent) override {
    // After CloseStream the server ends the socket once it sent everything.
    if (finish_sent && why == "closed by the server") return final_outcome();
    return WsStreamProtocol::on_server_closed(why, finish_sent);
  }

 private:
  static void append(std::string& to, const std::string& words) {
    if (words.empty() || to.size() + words.size() + 1 > wire::kMaxTranscriptBytes) return;
    if (!to.empty()) to += ' ';
    to += words;
  }

  Outcome final_outcome() {
    Outcome o;
    o.kind = Outcome::Kind::kFinal;
    o.final.ok = true;
    o.final.text = finals_;
    o.final.confidence = finals_.empty() ? 0 : confidence_;
    o.final.rejected = finals_.empty();
    return o;
  }

  const WsStreamSttOptions& options_;
  const int rate_;
  std::string bytes_;
  std::string finals_;
  std::string interim_;
  float confidence_ = 1;
  int bad_events_ = 0;
};

}  // namespace

std::string listen_target(const std::string& configured, const WsStreamSttOptions& options,
                          int rate) {
  std::string t = configured;
  t += configured.find('?') == std::string::npos ? '?' : '&';
  t += "encoding=linear16&sample_rate=" + std::to_string(rate) + "&channels=1&interim_results=true";
  if (!options.model.empty()) t += "&model=" + options.model;
  if (!options.language.empty()) t += "&language=" + options.language;
  return t;
}

WsStreamSttOptions ws_stream_stt_options_from(const RecognizerParams& params) {
  RecognizerParams rest = params;
  WsStreamSttOptions o;
  o.ws = ws_stream_options_from(kEngine, rest, "DEEPGRAM_API_KEY", "Token");
  auto take = [&](const char* key) { return take_param(rest, key); };
  // Values go into the URL's query as they are: only URL-safe words.
  auto word = [](const char* key, const std::string& v) {
    return word_param(kEngine, key, v, "-_.");
  };
  if (auto v = take("protocol"); v && *v != "deepgram") {
    throw std::invalid_argument(std::string(kEngine) + ": protocol '" + *v +
                                "' is not supported (known: deepgram)");
  }
  if (auto v = take("model")) o.model = word("model", *v);
  if (auto v = take("language")) o.language = word("language", *v);
  refuse_unknown(kEngine, rest);
  return o;
}

std::unique_ptr<WsStreamRecognizer> make_deepgram_stt(WsStreamSttOptions options) {
  auto shared = std::make_shared<const WsStreamSttOptions>(options);
  return std::make_unique<WsStreamRecognizer>(
      kEngine, options.ws, [shared](const StreamRequest& request) {
        return std::make_unique<DeepgramProtocol>(*shared, request);
      });
}

std::unique_ptr<StreamingRecognizer> make_ws_stream_stt(const RecognizerParams& params) {
  return make_deepgram_stt(ws_stream_stt_options_from(params));
}

}  // namespace atende::speech
