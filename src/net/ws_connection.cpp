#include "net/ws_connection.h"

#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <charconv>
#include <deque>
#include <optional>

namespace atende::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

std::string parse_ws_url(std::string_view url, WsUrl& out) {
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
  asio::ip::make_address(host, ec);
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

class BeastConnection final : public WsConnection {
 public:
  BeastConnection(asio::io_context& ioc, WsOptions options, WsHandlers handlers)
      : options_(std::move(options)), handlers_(std::move(handlers)), ws_(ioc) {}

  void start() override {
    const auto& url = options_.url;
    beast::error_code ec;
    const auto address = asio::ip::make_address(url.host, ec);
    if (ec) return end("bad address " + url.host, false);
    tcp::endpoint to(address, static_cast<uint16_t>(url.port));
    beast::get_lowest_layer(ws_).expires_after(options_.connect_timeout);
    beast::get_lowest_layer(ws_).async_connect(to, [self = self()](beast::error_code ec) {
      if (self->ended_) return;
      if (ec) return self->end("cannot connect: " + ec.message(), false);
      self->handshake();
    });
  }

  void send_text(std::string text) override { enqueue(std::move(text), true); }
  void send_binary(std::string bytes) override { enqueue(std::move(bytes), false); }
  void close(std::string why) override { end(std::move(why), true); }
  void fail(std::string why) override { end(std::move(why), false); }
  bool is_open() const override { return open_ && !ended_; }
  bool ended() const override { return ended_; }

 private:
  std::shared_ptr<BeastConnection> self() {
    return std::static_pointer_cast<BeastConnection>(shared_from_this());
  }

  void handshake() {
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true));
    // The handshake stays under the connect timeout; then Beast's own idle timeout (pings).
    ws_.set_option(
        websocket::stream_base::timeout{std::chrono::seconds(10), std::chrono::seconds(30), true});
    ws_.read_message_max(options_.max_message_bytes);
    ws_.set_option(
        websocket::stream_base::decorator([headers = options_.headers](websocket::request_type& r) {
          r.set(http::field::user_agent, "atende");
          for (const auto& [k, v] : headers) r.set(k, v);
        }));
    const auto& url = options_.url;
    const std::string host = url.host + ":" + std::to_string(url.port);
    ws_.async_handshake(host, url.target, [self = self()](beast::error_code ec) {
      if (self->ended_) return;
      if (ec) return self->end("handshake: " + ec.message(), false);
      beast::get_lowest_layer(self->ws_).expires_never();
      self->open_ = true;
      if (self->handlers_.on_open) self->handlers_.on_open();
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
        if (self->handlers_.on_text)
          self->handlers_.on_text({static_cast<const char*>(data.data()), data.size()});
      } else if (self->handlers_.on_binary) {
        self->handlers_.on_binary({static_cast<const uint8_t*>(data.data()), data.size()});
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
    ended_ = true;
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
    if (handlers_.on_end) handlers_.on_end(why, by_us);
    // The handlers may hold our owner, which holds us: drop them, but not while one of them
    // may be running (end() is often called from inside a handler).
    asio::post(ws_.get_executor(), [self = self()] { self->handlers_ = {}; });
  }

  struct Write {
    std::string bytes;
    bool text = true;
  };
  WsOptions options_;
  WsHandlers handlers_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer rbuf_;
  std::deque<Write> writes_;
  bool open_ = false;
  bool ended_ = false;
};

}  // namespace

std::shared_ptr<WsConnection> WsConnection::create(asio::io_context& ioc, WsOptions options,
                                                   WsHandlers handlers) {
  return std::make_shared<BeastConnection>(ioc, std::move(options), std::move(handlers));
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
