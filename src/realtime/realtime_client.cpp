#include "realtime/realtime_client.h"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <charconv>
#include <deque>
#include <optional>

#include "audio/resampler.h"

namespace atende::realtime {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

std::string parse_endpoint(std::string_view url, Endpoint& out) {
  if (url.size() > 1024) return "longer than 1024 bytes";
  if (url.starts_with("wss://")) return "wss:// is not supported in this version: use ws://";
  if (!url.starts_with("ws://")) return "not a ws:// URL";
  url.remove_prefix(5);
  const size_t slash = url.find('/');
  std::string_view hostport = url.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  const size_t colon = hostport.rfind(':');
  if (colon == std::string_view::npos) return "no port";
  std::string host(hostport.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  net::ip::make_address(host, ec);
  if (ec) return "the host must be a numeric address or localhost";
  const auto port_text = hostport.substr(colon + 1);
  int port = 0;
  auto [p, e] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (e != std::errc{} || p != port_text.data() + port_text.size() || port < 1 || port > 65535) {
    return "bad port";
  }
  for (char c : out.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return "control character in the path";
  }
  out.host = host;
  out.port = port;
  return {};
}

namespace {

constexpr auto kTick = std::chrono::milliseconds(20);
constexpr size_t kMaxQueuedWrites = 64;  // ~1.3 s of appends: the server stopped reading
constexpr int kSendEveryMs = 40;         // caller audio batched per append
constexpr size_t kResampleChunk = 4800;  // 200 ms at 24 kHz per resampler call

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(net::io_context& ioc, SessionOptions options, std::shared_ptr<Bridge> bridge)
      : options_(std::move(options)),
        bridge_(std::move(bridge)),
        ws_(ioc),
        tick_(ioc),
        up_(bridge_->rate(), kRealtimeRate),
        down_(kRealtimeRate, bridge_->rate()),
        caller_(static_cast<size_t>(bridge_->rate()) * Bridge::kCallerRingMs / 1000),
        caller24_(up_.max_output(caller_.size())),
        answer_(down_.max_output(kResampleChunk)) {}

  void start() {
    const auto& ep = options_.endpoint;
    tcp::endpoint to(net::ip::make_address(ep.host), static_cast<uint16_t>(ep.port));
    beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(10));
    beast::get_lowest_layer(ws_).async_connect(
        to, [self = shared_from_this()](beast::error_code ec) {
          if (ec) return self->end("cannot connect: " + ec.message());
          self->handshake();
        });
    schedule_tick();
  }

 private:
  void handshake() {
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true));
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(
        websocket::stream_base::timeout{std::chrono::seconds(10), std::chrono::seconds(30), true});
    ws_.read_message_max(kMaxEventBytes);
    const std::string key = options_.api_key;
    ws_.set_option(websocket::stream_base::decorator([key](websocket::request_type& r) {
      r.set(http::field::user_agent, "atende");
      if (!key.empty()) r.set(http::field::authorization, "Bearer " + key);
    }));
    const auto& ep = options_.endpoint;
    const std::string host = ep.host + ":" + std::to_string(ep.port);
    ws_.async_handshake(host, ep.target, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->end("handshake: " + ec.message());
      self->open_ = true;
      self->send(session_update(self->options_.config));
      self->read();
    });
  }

  void read() {
    ws_.async_read(rbuf_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        if (ec == websocket::error::closed) return self->end("closed by the server");
        if (ec == websocket::error::message_too_big) return self->end("event too large");
        return self->end("read: " + ec.message());
      }
      if (!self->ws_.got_text()) {
        self->rbuf_.consume(self->rbuf_.size());
        return self->end("binary message from the server");
      }
      const auto data = self->rbuf_.cdata();
      self->on_text({static_cast<const char*>(data.data()), data.size()});
      self->rbuf_.consume(self->rbuf_.size());
      if (!self->ended_) self->read();
    });
  }

  void on_text(std::string_view text) {
    std::string why;
    auto ev = parse_server_event(text, &why);
    if (!ev) {
      // A malformed event is the server's bug; ignoring it keeps the call going.
      if (++bad_events_ <= 5) spdlog::warn("realtime: ignored an event ({})", why);
      return;
    }
    switch (ev->type) {
      case EventType::kAudioDelta:
        return on_audio(*ev);
      case EventType::kOther:
        return;
      default:
        break;
    }
    if (!bridge_->push_event(EngineEvent{false, 0, std::move(*ev)})) end("event queue full");
  }

  void on_audio(const ServerEvent& ev) {
    if (bridge_->is_dropped(ev.response_id)) return;
    if (ev.item_id != audio_item_) {
      audio_item_ = ev.item_id;
      down_.reset();
      EngineEvent start{true, bridge_->answer_pushed(), {}};
      start.event.item_id = ev.item_id;
      start.event.response_id = ev.response_id;
      if (!bridge_->push_event(std::move(start))) return end("event queue full");
    }
    std::span<const int16_t> in(ev.pcm);
    while (!in.empty()) {
      const auto r = down_.process(in.first(std::min(in.size(), kResampleChunk)), answer_);
      if (r.written) bridge_->push_answer(ev.response_id, answer_.data(), r.written);
      if (r.consumed == 0) break;
      in = in.subspan(r.consumed);
    }
  }

  void schedule_tick() {
    tick_.expires_after(kTick);
    tick_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->ended_) return;
      self->on_tick();
      if (!self->ended_) self->schedule_tick();
    });
  }

  void on_tick() {
    if (bridge_->closed()) return end("closed by us", true);
    if (!open_) return;
    // Caller audio: whatever the media thread queued, resampled and sent in batches.
    const size_t n =
        bridge_->pop_caller(caller_.data() + caller_size_, caller_.size() - caller_size_);
    caller_size_ += n;
    if (caller_size_ * 1000 >= static_cast<size_t>(bridge_->rate()) * kSendEveryMs) {
      const auto r = up_.process({caller_.data(), caller_size_}, caller24_);
      if (r.written) send(input_audio_append({caller24_.data(), r.written}));
      caller_size_ = 0;
    }
    Command c;
    while (bridge_->pop_command(c)) {
      switch (c.kind) {
        case Command::Kind::kCommit:
          // What the caller said until now is the turn: send it all first.
          if (caller_size_) {
            const auto r = up_.process({caller_.data(), caller_size_}, caller24_);
            if (r.written) send(input_audio_append({caller24_.data(), r.written}));
            caller_size_ = 0;
          }
          send(input_audio_commit());
          send(response_create());
          break;
        case Command::Kind::kCancel:
          send(response_cancel());
          break;
        case Command::Kind::kTruncate:
          send(item_truncate(c.id, c.audio_end_ms));
          break;
        case Command::Kind::kRespond:
          send(response_create(c.output));
          break;
        case Command::Kind::kToolOutput:
          send(function_call_output(c.id, c.output));
          break;
      }
    }
  }

  void send(std::string text) {
    if (ended_) return;
    if (writes_.size() >= kMaxQueuedWrites) return end("the server stopped reading");
    writes_.push_back(std::move(text));
    if (writes_.size() == 1) write_next();
  }

  void write_next() {
    ws_.text(true);
    ws_.async_write(net::buffer(writes_.front()),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      if (ec) return self->end("write: " + ec.message());
                      self->writes_.pop_front();
                      if (!self->writes_.empty() && !self->ended_) self->write_next();
                    });
  }

  void end(std::string why, bool by_us = false) {
    if (ended_) return;
    ended_ = true;
    if (!by_us) spdlog::info("realtime: session ended: {}", why);
    bridge_->set_ended(std::move(why));
    tick_.cancel();
    if (open_) {
      open_ = false;
      ws_.async_close(websocket::close_code::normal,
                      [self = shared_from_this()](beast::error_code) {
                        beast::error_code ignored;
                        beast::get_lowest_layer(self->ws_).socket().close(ignored);
                      });
    } else {
      beast::error_code ignored;
      beast::get_lowest_layer(ws_).socket().close(ignored);
    }
  }

  SessionOptions options_;
  std::shared_ptr<Bridge> bridge_;
  websocket::stream<beast::tcp_stream> ws_;
  net::steady_timer tick_;
  beast::flat_buffer rbuf_;
  std::deque<std::string> writes_;
  bool open_ = false;
  bool ended_ = false;
  int bad_events_ = 0;
  audio::Resampler up_;          // leg rate -> 24 kHz
  audio::Resampler down_;        // 24 kHz -> leg rate
  std::vector<int16_t> caller_;  // leg-rate samples waiting for the next append
  size_t caller_size_ = 0;
  std::vector<int16_t> caller24_;
  std::vector<int16_t> answer_;
  std::string audio_item_;
};

}  // namespace

struct RealtimeIo::Impl {
  net::io_context ioc{1};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::thread thread;
};

RealtimeIo::RealtimeIo() : impl_(std::make_unique<Impl>()) {
  impl_->work.emplace(net::make_work_guard(impl_->ioc));
  impl_->thread = std::thread([this] {
    for (;;) {
      try {
        impl_->ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("realtime: unexpected exception on the I/O thread: {}", e.what());
      }
    }
  });
}

RealtimeIo::~RealtimeIo() {
  impl_->work.reset();
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void RealtimeIo::open(SessionOptions options, std::shared_ptr<Bridge> bridge) {
  net::post(impl_->ioc, [this, options = std::move(options), bridge = std::move(bridge)]() mutable {
    try {
      std::make_shared<Session>(impl_->ioc, std::move(options), bridge)->start();
    } catch (const std::exception& e) {
      bridge->set_ended(std::string("cannot start: ") + e.what());
    }
  });
}

}  // namespace atende::realtime
