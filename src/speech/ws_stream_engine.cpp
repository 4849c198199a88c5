#include "speech/ws_stream_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <optional>

#include "speech/stt_wire.h"

namespace atende::speech {

namespace {

constexpr auto kTick = std::chrono::milliseconds(20);

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::io_context& ioc, const char* engine, const WsStreamOptions& options,
          std::shared_ptr<StreamCore> core, std::shared_ptr<WsStreamProtocol> protocol)
      : ioc_(ioc),
        engine_(engine),
        options_(options),
        core_(std::move(core)),
        protocol_(std::move(protocol)),
        tick_(ioc),
        batch_(static_cast<size_t>(core_->request().sample_rate) * options.send_every_ms / 1000),
        max_samples_(
            static_cast<uint64_t>(options.max_audio_seconds * core_->request().sample_rate)) {}

  void start() {
    net::WsOptions o;
    o.url = options_.url;
    o.url.target = protocol_->target(options_.url.target);
    o.headers = options_.headers;
    o.connect_timeout = options_.connect_timeout;
    o.ca_file = options_.ca_file;
    o.max_message_bytes = wire::kMaxEventBytes;
    // ~2.5 s of 40 ms batches: more queued means the server stopped reading.
    o.max_queued_writes = 64;
    // The connection's handlers hold the session weakly: the session owns the connection,
    // and a strong reference back would be a cycle that outlives both (a stream's ring, its
    // protocol and socket buffers, every utterance). The tick loop keeps the session alive
    // until the connection has ended.
    net::WsHandlers h;
    h.on_open = [w = weak_from_this()] {
      if (auto self = w.lock()) self->protocol_->on_open(*self->ws_);
    };
    h.on_text = [w = weak_from_this()](std::string_view text) {
      if (auto self = w.lock()) self->act(self->protocol_->on_text(text, self->finish_sent_));
    };
    h.on_end = [w = weak_from_this()](const std::string& why, bool by_us) {
      auto self = w.lock();
      if (!self) return;
      self->tick_.cancel();
      if (by_us || self->core_->ended()) return;
      auto o = self->protocol_->on_server_closed(why, self->finish_sent_);
      if (o.kind == WsStreamProtocol::Outcome::Kind::kFinal && !o.final.ok) {
        o.final.error = std::string(self->engine_) + ": " + o.final.error;
      }
      if (o.kind != WsStreamProtocol::Outcome::Kind::kFinal) {
        o.kind = WsStreamProtocol::Outcome::Kind::kFinal;
        o.final = {};
        o.final.error = std::string(self->engine_) + ": " + why;
      }
      self->act(std::move(o));
    };
    ws_ = net::WsConnection::create(ioc_, std::move(o), std::move(h));
    ws_->start();
    schedule_tick();
  }

 private:
  void schedule_tick() {
    tick_.expires_after(kTick);
    tick_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->ws_->ended()) return;
      self->on_tick();
      if (!self->ws_->ended()) self->schedule_tick();
    });
  }

  void on_tick() {
    if (core_->cancel_requested()) {
      // The remote side must see the end: a close frame, whatever the protocol.
      ws_->close("cancelled");
      core_->final_cancelled(engine_);
      return;
    }
    if (core_->ended()) return ws_->close("ended");
    if (!ws_->is_open()) return;  // connecting: audio waits in the ring
    const bool finishing = core_->finish_requested();
    // Send whole batches; at the end of the utterance, whatever is left.
    while (core_->queued() >= batch_.size() || (finishing && core_->queued() > 0)) {
      const size_t n = core_->pop(batch_.data(), batch_.size());
      if (n == 0) break;
      send_audio({batch_.data(), n});
      if (ws_->ended()) return;
    }
    if (finishing && !finish_sent_) {
      protocol_->send_finish(*ws_);
      finish_sent_ = true;
      final_deadline_ = std::chrono::steady_clock::now() + options_.final_timeout;
    }
    if (finish_sent_ && std::chrono::steady_clock::now() > final_deadline_) {
      Recognition r;
      r.error = std::string(engine_) + ": no final transcript within " +
                std::to_string(options_.final_timeout.count()) + " ms";
      act({WsStreamProtocol::Outcome::Kind::kFinal, {}, std::move(r)});
    }
  }

  void send_audio(std::span<const int16_t> pcm) {
    if (sent_ >= max_samples_) return;  // a runaway utterance: the rest is not sent
    pcm = pcm.first(std::min<uint64_t>(pcm.size(), max_samples_ - sent_));
    sent_ += pcm.size();
    protocol_->send_audio(pcm, *ws_);
  }

  void act(WsStreamProtocol::Outcome o) {
    using Kind = WsStreamProtocol::Outcome::Kind;
    if (o.kind == Kind::kPartial) {
      if (o.partial == last_partial_) return;
      last_partial_ = std::move(o.partial);
      return core_->partial(last_partial_);
    }
    if (o.kind != Kind::kFinal) return;
    o.final.audio_seconds = static_cast<double>(sent_) / core_->request().sample_rate;
    if (!o.final.ok && !o.final.error.starts_with(engine_)) {
      o.final.error = std::string(engine_) + ": " + o.final.error;
    }
    if (!o.final.ok) spdlog::info("{}: tag={} {}", engine_, core_->request().tag, o.final.error);
    core_->final(std::move(o.final), engine_);
    ws_->close("done");
  }

  boost::asio::io_context& ioc_;
  const char* engine_;
  const WsStreamOptions& options_;  // the engine's: it outlives the I/O thread
  std::shared_ptr<StreamCore> core_;
  std::shared_ptr<WsStreamProtocol> protocol_;
  std::shared_ptr<net::WsConnection> ws_;
  boost::asio::steady_timer tick_;
  std::vector<int16_t> batch_;
  uint64_t sent_ = 0;
  const uint64_t max_samples_;
  bool finish_sent_ = false;
  std::chrono::steady_clock::time_point final_deadline_{};
  std::string last_partial_;  // the last one passed on
};

}  // namespace

WsStreamRecognizer::WsStreamRecognizer(const char* name, WsStreamOptions options,
                                       WsStreamProtocolFactory protocol)
    : name_(name),
      options_(std::move(options)),
      protocol_(std::move(protocol)),
      io_(std::make_unique<net::IoThread>(name)) {}

WsStreamRecognizer::~WsStreamRecognizer() {
  io_.reset();  // joins: no session runs any more
  std::lock_guard lock(mu_);
  for (auto& w : streams_) {
    if (auto core = w.lock()) {
      Recognition r;
      r.error = std::string(name_) + ": shutting down";
      core->final(std::move(r), name_);
    }
  }
}

std::unique_ptr<RecognitionStream> WsStreamRecognizer::start(StreamRequest request,
                                                             StreamHandlers handlers) {
  if (request.sample_rate < 8000 || request.sample_rate > 48000) {
    return failed_stream(handlers, name_, std::string(name_) + ": unsupported sample rate");
  }
  const auto capacity = static_cast<size_t>(options_.max_audio_seconds * request.sample_rate);
  auto core = std::make_shared<StreamCore>(std::move(request), std::move(handlers), capacity);
  std::unique_ptr<WsStreamProtocol> protocol;
  try {
    protocol = protocol_(core->request());
  } catch (const std::exception& e) {
    Recognition r;
    r.error = std::string(name_) + ": " + e.what();
    core->final(std::move(r), name_);
    return std::make_unique<CoreStream>(core);
  }
  {
    std::lock_guard lock(mu_);
    std::erase_if(streams_, [](const auto& w) { return w.expired(); });
    streams_.push_back(core);
  }
  // shared_ptr: a posted handler must be copyable.
  io_->post([this, core, p = std::shared_ptr<WsStreamProtocol>(std::move(protocol))] {
    std::make_shared<Session>(io_->context(), name_, options_, core, p)->start();
  });
  return std::make_unique<CoreStream>(core);
}

WsStreamOptions ws_stream_options_from(const char* engine, RecognizerParams& params,
                                       const std::string& default_key_env,
                                       const std::string& auth_scheme) {
  WsStreamOptions o;
  auto take = [&](const char* key) { return take_param(params, key); };
  const auto url = take("url");
  if (!url) throw std::invalid_argument(std::string(engine) + ": url is required (wss://...)");
  if (auto bad = net::parse_ws_url(*url, o.url); !bad.empty())
    throw std::invalid_argument(std::string(engine) + ": url: " + bad);
  o.ca_file = take("ca_file").value_or("");
  if (o.ca_file.size() > 4096)
    throw std::invalid_argument(std::string(engine) + ": ca_file too long");
  std::string key = take("api_key").value_or("");
  const std::string key_env = take("api_key_env").value_or(default_key_env);
  if (key.empty() && !key_env.empty()) {
    if (const char* v = std::getenv(key_env.c_str())) key = v;
  }
  if (!key.empty()) o.headers.emplace_back("Authorization", auth_scheme + " " + key);
  if (auto v = take("connect_timeout_ms"))
    o.connect_timeout =
        std::chrono::milliseconds(int_param(engine, "connect_timeout_ms", *v, 100, 60000));
  if (auto v = take("final_timeout_ms"))
    o.final_timeout =
        std::chrono::milliseconds(int_param(engine, "final_timeout_ms", *v, 100, 60000));
  if (auto v = take("max_audio_seconds"))
    o.max_audio_seconds = int_param(engine, "max_audio_seconds", *v, 1, 120);
  return o;
}

std::optional<std::string> take_param(RecognizerParams& params, const char* key) {
  auto it = params.find(key);
  if (it == params.end()) return std::nullopt;
  std::string v = std::move(it->second);
  params.erase(it);
  return v;
}

std::string word_param(const char* engine, const char* key, const std::string& value,
                       std::string_view punctuation) {
  const bool ok =
      !value.empty() && value.size() <= 100 && std::all_of(value.begin(), value.end(), [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               punctuation.find(c) != std::string_view::npos;
      });
  if (!ok) {
    throw std::invalid_argument(std::string(engine) + ": bad value '" + value + "' for " + key);
  }
  return value;
}

int int_param(const char* engine, const std::string& key, const std::string& value, int lo,
              int hi) {
  size_t used = 0;
  int v = 0;
  try {
    v = std::stoi(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || v < lo || v > hi) {
    throw std::invalid_argument(std::string(engine) + ": bad value '" + value + "' for " + key +
                                " (" + std::to_string(lo) + ".." + std::to_string(hi) + ")");
  }
  return v;
}

void refuse_unknown(const char* engine, const RecognizerParams& params) {
  if (!params.empty()) {
    throw std::invalid_argument(std::string(engine) + ": unknown parameter '" +
                                params.begin()->first + "'");
  }
}

}  // namespace atende::speech
