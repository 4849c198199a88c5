#include "net/ws_connection.h"

#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <charconv>
#include <deque>
#include <mutex>
#include <optional>
#include <type_traits>

#include "net/tls_client.h"

namespace atende::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// A DNS name: letters, digits, '-' and '.', labels of 1..63 bytes, 253 bytes at most.
bool is_host_name(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  size_t label = 0;
  for (char c : h) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    (c == '-' && label > 0);
    if (!ok || ++label > 63) return false;
  }
  return true;  // a trailing dot (a fully qualified name) is fine
}

}  // namespace

std::string parse_ws_url(std::string_view url, WsUrl& out) {
  if (url.size() > 1024) return "longer than 1024 bytes";
  bool tls = false;
  if (url.starts_with("wss://")) {
    tls = true;
    url.remove_prefix(6);
  } else if (url.starts_with("ws://")) {
    url.remove_prefix(5);
  } else {
    return "not a ws:// or wss:// URL";
  }
  const size_t slash = url.find('/');
  std::string_view hostport = url.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (hostport.find('@') != std::string_view::npos) return "user info in the URL";
  std::string host;
  std::string_view port_text;
  if (hostport.starts_with('[')) {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) return "unclosed [ in the host";
    host = std::string(hostport.substr(1, close - 1));
    const auto rest = hostport.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return "bad host";
    if (!rest.empty()) port_text = rest.substr(1);
    beast::error_code ec;
    asio::ip::make_address_v6(host, ec);
    if (ec) return "bad IPv6 address";
  } else {
    const size_t colon = hostport.rfind(':');
    host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port_text = hostport.substr(colon + 1);
    beast::error_code ec;
    asio::ip::make_address_v4(host, ec);
    if (ec && !is_host_name(host)) return "the host must be a DNS name or an address";
  }
  int port = tls ? 443 : 80;
  if (!port_text.empty() || hostport.ends_with(':')) {
    auto [p, e] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (e != std::errc{} || p != port_text.data() + port_text.size() || port < 1 || port > 65535) {
      return "bad port";
    }
  }
  for (char c : out.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return "control character in the path";
  }
  out.tls = tls;
  out.host = host;
  out.port = port;
  return {};
}

namespace {

class ConnectionBase;

// Every connection of one io_context, held weakly: when the io_context is destroyed with
// connections still up (an IoThread stopped mid-call), their pending operations are
// dropped, and so must their handlers be, or a handler that holds its connection's owner
// keeps both alive for ever.
class LiveConnections final : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;
  explicit LiveConnections(asio::execution_context& ctx) : service(ctx) {}

  void add(const std::shared_ptr<ConnectionBase>& c) {
    std::lock_guard lock(mu_);
    if (live_.size() >= 2 * pruned_size_ + 16) {  // amortised: the list stays ~2x the live
      std::erase_if(live_, [](const auto& w) { return w.expired(); });
      pruned_size_ = live_.size();
    }
    live_.push_back(c);
  }

 private:
  void shutdown() override;

  std::mutex mu_;
  std::vector<std::weak_ptr<ConnectionBase>> live_;
  size_t pruned_size_ = 0;
};

class ConnectionBase : public WsConnection {
 public:
  virtual void drop_handlers() = 0;
};

void LiveConnections::shutdown() {
  std::vector<std::weak_ptr<ConnectionBase>> live;
  {
    std::lock_guard lock(mu_);
    live.swap(live_);
  }
  for (auto& w : live) {
    if (auto c = w.lock()) c->drop_handlers();
  }
}

// `Stream`: beast::tcp_stream (ws://) or beast::ssl_stream<beast::tcp_stream> (wss://).
template <class Stream>
class BeastConnection final : public ConnectionBase {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  BeastConnection(asio::io_context& ioc, WsOptions options, WsHandlers handlers,
                  std::shared_ptr<asio::ssl::context> tls, std::string tls_error)
      : options_(std::move(options)),
        handlers_(std::move(handlers)),
        tls_(std::move(tls)),
        tls_error_(std::move(tls_error)),
        ws_(make_stream(ioc, tls_.get())),
        resolver_(ioc),
        deadline_(ioc) {}

  void start() override {
    const auto& url = options_.url;
    if (kTls && !tls_) return end("tls: " + tls_error_, false);
    deadline_.expires_after(options_.connect_timeout);
    deadline_.async_wait([self = self()](beast::error_code ec) {
      if (ec || self->ended_ || self->open_) return;
      self->end("cannot connect: no answer within " +
                    std::to_string(self->options_.connect_timeout.count()) + " ms",
                false);
    });
    beast::error_code ec;
    const auto address =
        asio::ip::make_address(url.host == "localhost" ? std::string("127.0.0.1") : url.host, ec);
    if (!ec) {
      tcp::endpoint to(address, static_cast<uint16_t>(url.port));
      beast::get_lowest_layer(ws_).async_connect(
          to, [self = self()](beast::error_code ec) { self->connected(ec); });
      return;
    }
    // A name: getaddrinfo runs on asio's resolver thread, not ours.
    resolver_.async_resolve(
        url.host, std::to_string(url.port),
        [self = self()](beast::error_code ec, const tcp::resolver::results_type& found) {
          if (self->ended_) return;
          if (ec) {
            return self->end("cannot resolve " + self->options_.url.host + ": " + ec.message(),
                             false);
          }
          beast::get_lowest_layer(self->ws_).async_connect(
              found, [self](beast::error_code ec, const tcp::endpoint&) { self->connected(ec); });
        });
  }

  void send_text(std::string text) override { enqueue(std::move(text), true); }
  void send_binary(std::string bytes) override { enqueue(std::move(bytes), false); }
  void close(std::string why) override { end(std::move(why), true); }
  void fail(std::string why) override { end(std::move(why), false); }
  bool is_open() const override { return open_ && !ended_; }
  bool ended() const override { return ended_; }
  void drop_handlers() override { handlers_ = {}; }

 private:
  static websocket::stream<Stream> make_stream(asio::io_context& ioc, asio::ssl::context* tls) {
    if constexpr (kTls) {
      // A context that could not load its CAs is never used: start() ends first.
      static asio::ssl::context unused(asio::ssl::context::tls_client);
      return websocket::stream<Stream>(ioc, tls ? *tls : unused);
    } else {
      return websocket::stream<Stream>(ioc);
    }
  }

  std::shared_ptr<BeastConnection> self() {
    return std::static_pointer_cast<BeastConnection>(shared_from_this());
  }

  // Runs one of the handlers. Once the connection has ended they are dropped, but never
  // while one of them runs (end() is often called from inside a handler).
  template <class F, class... Args>
  void call(const F& handler, Args&&... args) {
    if (!handler) return;
    struct Running {
      BeastConnection& c;
      explicit Running(BeastConnection& c) : c(c) { ++c.running_; }
      ~Running() {
        if (--c.running_ == 0 && c.ended_) c.handlers_ = {};
      }
    } running(*this);
    handler(std::forward<Args>(args)...);
  }

  void connected(beast::error_code ec) {
    if (ended_) return;
    if (ec) return end("cannot connect: " + ec.message(), false);
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ignored);
    if constexpr (kTls) {
      auto* ssl = ws_.next_layer().native_handle();
      if (auto bad = expect_peer(ssl, options_.url.host); !bad.empty()) {
        return end("tls: " + bad, false);
      }
      ws_.next_layer().async_handshake(
          asio::ssl::stream_base::client,
          [self = self()](beast::error_code ec) { self->tls_handshaken(ec); });
    } else {
      handshake();
    }
  }

  void tls_handshaken(beast::error_code ec) {  // wss:// only
    if (ended_) return;
    if (ec) return end(describe_tls_failure(ws_.next_layer().native_handle(), ec), false);
    handshake();
  }

  void handshake() {
    // Beast's own timeouts from here: the handshake's, then idle pings.
    ws_.set_option(
        websocket::stream_base::timeout{std::chrono::seconds(10), std::chrono::seconds(30), true});
    ws_.read_message_max(options_.max_message_bytes);
    ws_.set_option(
        websocket::stream_base::decorator([headers = options_.headers](websocket::request_type& r) {
          r.set(http::field::user_agent, "atende");
          for (const auto& [k, v] : headers) r.set(k, v);
        }));
    const auto& url = options_.url;
    const bool v6 = url.host.find(':') != std::string::npos;
    const std::string host =
        (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
    ws_.async_handshake(host, url.target, [self = self()](beast::error_code ec) {
      if (self->ended_) return;
      if (ec) return self->end("handshake: " + ec.message(), false);
      self->deadline_.cancel();
      self->open_ = true;
      if (!self->writes_.empty()) self->write_next();  // queued while connecting
      self->call(self->handlers_.on_open);
      if (!self->ended_) self->read();
    });
  }

  void read() {
    ws_.async_read(rbuf_, [self = self()](beast::error_code ec, size_t) {
      if (self->ended_) return;
      if (ec) {
        if (ec == websocket::error::closed) return self->end("closed by the server", false);
        if (ec == websocket::error::message_too_big) return self->end("event too large", false);
        return self->end("read: " + ec.message(), false);
      }
      const auto data = self->rbuf_.cdata();
      if (self->ws_.got_text()) {
        self->call(self->handlers_.on_text,
                   std::string_view{static_cast<const char*>(data.data()), data.size()});
      } else if (self->handlers_.on_binary) {
        self->call(self->handlers_.on_binary,
                   std::span<const uint8_t>{static_cast<const uint8_t*>(data.data()), data.size()});
      } else {
        self->rbuf_.consume(self->rbuf_.size());
        return self->end("binary message from the server", false);
      }
      self->rbuf_.consume(self->rbuf_.size());
      if (!self->ended_) self->read();
    });
  }

  void enqueue(std::string bytes, bool text) {
    if (ended_) return;
    if (writes_.size() >= options_.max_queued_writes) {
      return end("the server stopped reading", false);
    }
    writes_.push_back({std::move(bytes), text});
    if (writes_.size() == 1 && open_) write_next();
  }

  void write_next() {
    ws_.text(writes_.front().text);
    ws_.async_write(asio::buffer(writes_.front().bytes),
                    [self = self()](beast::error_code ec, size_t) {
                      if (self->ended_) return;
                      if (ec) return self->end("write: " + ec.message(), false);
                      self->writes_.pop_front();
                      if (!self->writes_.empty()) self->write_next();
                    });
  }

  void end(std::string why, bool by_us) {
    if (ended_) return;
    auto keep = self();  // the handlers dropped below may hold our last owner
    ended_ = true;
    deadline_.cancel();
    resolver_.cancel();
    if (open_) {
      open_ = false;
      // A write may be in flight: Beast allows one close beside it, and the socket is
      // closed once the close frame went out (or failed), whatever the peer does.
      ws_.async_close(websocket::close_code::normal, [self = self()](beast::error_code) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->ws_).socket().close(ignored);
      });
    } else {
      beast::error_code ignored;
      beast::get_lowest_layer(ws_).socket().close(ignored);
    }
    if (handlers_.on_end) {
      call(handlers_.on_end, why, by_us);
    } else if (running_ == 0) {
      handlers_ = {};
    }
  }

  struct Write {
    std::string bytes;
    bool text = true;
  };
  WsOptions options_;
  WsHandlers handlers_;
  std::shared_ptr<asio::ssl::context> tls_;  // wss://: shared by every connection (tls_client.h)
  std::string tls_error_;                    // why tls_ is null
  websocket::stream<Stream> ws_;
  tcp::resolver resolver_;
  asio::steady_timer deadline_;  // until the WebSocket handshake is done
  beast::flat_buffer rbuf_;
  std::deque<Write> writes_;
  int running_ = 0;  // handlers running now (nested when one ends the connection)
  bool open_ = false;
  bool ended_ = false;
};

}  // namespace

std::shared_ptr<WsConnection> WsConnection::create(asio::io_context& ioc, WsOptions options,
                                                   WsHandlers handlers) {
  auto& live = asio::use_service<LiveConnections>(ioc);
  std::shared_ptr<ConnectionBase> c;
  if (options.url.tls) {
    std::string error;
    auto tls = client_tls_context(options.ca_file, error);
    c = std::make_shared<BeastConnection<beast::ssl_stream<beast::tcp_stream>>>(
        ioc, std::move(options), std::move(handlers), std::move(tls), std::move(error));
  } else {
    c = std::make_shared<BeastConnection<beast::tcp_stream>>(ioc, std::move(options),
                                                             std::move(handlers), nullptr, "");
  }
  live.add(c);
  return c;
}

struct IoThread::Impl {
  asio::io_context ioc{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
};

IoThread::IoThread(std::string name) : impl_(std::make_unique<Impl>()), name_(std::move(name)) {
  impl_->work.emplace(asio::make_work_guard(impl_->ioc));
  thread_ = std::thread([this] {
    for (;;) {
      try {
        impl_->ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("{}: unexpected exception on the I/O thread: {}", name_, e.what());
      }
    }
  });
}

IoThread::~IoThread() {
  impl_->work.reset();
  impl_->ioc.stop();
  if (thread_.joinable()) thread_.join();
}

asio::io_context& IoThread::context() { return impl_->ioc; }

void IoThread::post(std::function<void()> fn) { asio::post(impl_->ioc, std::move(fn)); }

}  // namespace atende::net
