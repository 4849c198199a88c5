#include "api/http_server.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <optional>
#include <stdexcept>

#include "api/query.h"

namespace atende::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

bool is_http_parse_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

// One client connection: read a request under a deadline, answer, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpServer& server, const HttpServerOptions& options,
          std::shared_ptr<std::atomic<int>> open)
      : stream_(std::move(socket)),
        server_(server),
        options_(options),
        buffer_(options.header_limit + options.body_limit + 4096),
        open_(std::move(open)) {
    open_->fetch_add(1);
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_address_ = peer.address().to_string();
  }
  ~Session() { open_->fetch_sub(1); }

  void start() { read_request(); }

 private:
  void read_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options_.header_limit));
    parser_->body_limit(options_.body_limit);
    // One deadline for the whole request: a client trickling bytes cannot hold us forever.
    stream_.expires_after(options_.request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return close_gracefully();
    if (ec == http::error::header_limit) return reply_error(431, "request header too large");
    if (ec == http::error::body_limit || ec == http::error::buffer_overflow) {
      return reply_error(413, "request too large");
    }
    if (ec && is_http_parse_error(ec)) return reply_error(400, "bad request: " + ec.message());
    if (ec) return;  // timeout, reset, shutdown: drop the connection

    auto& req = parser_->get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    for (const auto& field : req) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(req.body());
    request.remote_address = remote_address_;
    if (beast::websocket::is_upgrade(req)) {
      const std::string path = request.target.substr(0, request.target.find('?'));
      if (const UpgradeRoute* route = server_.upgrade_route(path)) {
        const HttpResponse r = server_.dispatch_upgrade(request, *route);
        if (r.status != 101) return send(r, /*keep_alive=*/false);
        // The socket leaves this server: a duplicate descriptor goes to the route, ours is
        // closed with the session. (Bytes a client sent before our 101 are dropped: RFC 6455
        // has it wait.)
        hand_over(*route, request);
        return;
      }
    }
    if (request.method == "GET") {
      const std::string path = request.target.substr(0, request.target.find('?'));
      if (const TakeoverRoute* route = server_.takeover_route(path)) {
        const HttpResponse r = server_.dispatch_upgrade(request, *route);
        if (r.status != 200) return send(r, req.keep_alive());
        hand_over(*route, request);
        return;
      }
    }
    const HttpResponse response = server_.dispatch(request);
    send(response, req.keep_alive());
  }

  // The socket leaves this server: a duplicate descriptor goes to the route, ours is closed
  // with the session.
  void hand_over(const UpgradeRoute& route, const HttpRequest& request) {
    const int fd = ::dup(stream_.socket().native_handle());
    beast::error_code ignored;
    stream_.socket().close(ignored);
    if (fd >= 0) route.take(request, fd);
  }

  void reply_error(int status, const std::string& message) {
    send(HttpResponse::error(status, message), /*keep_alive=*/false);
  }

  void send(const HttpResponse& r, bool keep_alive) {
    response_.emplace();
    response_->version(11);
    response_->result(static_cast<unsigned>(r.status));
    response_->set(http::field::server, "atende");
    response_->set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) response_->set(k, v);
    response_->body() = r.body;
    response_->keep_alive(keep_alive);
    response_->prepare_payload();
    stream_.expires_after(options_.request_timeout);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return;
    if (response_->keep_alive()) return read_request();
    close_gracefully();
  }

  // Send FIN, then read and discard what the client still sends (bounded in bytes and
  // time) before closing, so our error reply is not destroyed by a TCP reset caused by
  // unread request bytes.
  void close_gracefully() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(2));
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (!ec && self->drained_ < (1u << 20)) self->drain();
                            });
  }

  beast::tcp_stream stream_;
  const HttpServer& server_;
  const HttpServerOptions& options_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::array<char, 4096> scratch_;
  std::size_t drained_ = 0;
  std::shared_ptr<std::atomic<int>> open_;
  std::string remote_address_;  // taken once: the socket may be gone when we ask later
};

}  // namespace

struct HttpServer::Impl {
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  net::steady_timer retry{ioc};
  std::thread thread;
};

HttpServer::HttpServer(HttpServerOptions options)
    : options_(options), open_(std::make_shared<std::atomic<int>>(0)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(std::string method, std::string_view pattern, Handler handler) {
  if (started_) throw std::logic_error("HttpServer::route after start()");
  router_.add(std::move(method), pattern, std::move(handler));
}

void HttpServer::use(Middleware middleware) {
  if (started_) throw std::logic_error("HttpServer::use after start()");
  middlewares_.push_back(std::move(middleware));
}

void HttpServer::upgrade(std::string path, UpgradeRoute route) {
  if (started_) throw std::logic_error("HttpServer::upgrade after start()");
  upgrades_.emplace_back(std::move(path), std::move(route));
}

void HttpServer::fallback(Handler handler) {
  if (started_) throw std::logic_error("HttpServer::fallback after start()");
  fallback_ = std::move(handler);
}

void HttpServer::takeover(std::string path, TakeoverRoute route) {
  if (started_) throw std::logic_error("HttpServer::takeover after start()");
  // In the router too, so routes() lists it and other methods get 405. The session hands
  // every GET on it over before routing, so this handler only answers dispatch() callers.
  router_.add("GET", path, [](const HttpRequest&) {
    return HttpResponse::error(400, "this route streams: connect over HTTP");
  });
  takeovers_.emplace_back(std::move(path), std::move(route));
}

const TakeoverRoute* HttpServer::takeover_route(const std::string& path) const {
  for (const auto& [p, r] : takeovers_) {
    if (p == path) return &r;
  }
  return nullptr;
}

const UpgradeRoute* HttpServer::upgrade_route(const std::string& path) const {
  for (const auto& [p, r] : upgrades_) {
    if (p == path) return &r;
  }
  return nullptr;
}

HttpResponse HttpServer::dispatch_upgrade(HttpRequest& request, const UpgradeRoute& route) const {
  request.path = request.target.substr(0, request.target.find('?'));
  const size_t q = request.target.find('?');
  if (q != std::string::npos) {
    auto query = parse_query(std::string_view(request.target).substr(q + 1));
    if (!query) return HttpResponse::error(400, "malformed query string");
    request.query = std::move(*query);
  }
  std::function<HttpResponse(size_t, HttpRequest&)> run = [&](size_t i, HttpRequest& r) {
    if (i == middlewares_.size()) return route.check(r);
    return middlewares_[i](r, [&run, i](HttpRequest& next) { return run(i + 1, next); });
  };
  try {
    return run(0, request);
  } catch (const std::exception& e) {
    spdlog::error("http: upgrade {} failed: {}", request.path, e.what());
  }
  return HttpResponse::error(500, "internal error");
}

int HttpServer::open_connections() const { return open_->load(); }

void HttpServer::start(const std::string& host, uint16_t port) {
  if (started_) throw std::logic_error("HttpServer already started");
  auto impl = std::make_unique<Impl>();
  const std::string where = host + ":" + std::to_string(port);
  beast::error_code ec;
  tcp::resolver resolver(impl->ioc);
  auto results = resolver.resolve(host, std::to_string(port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    throw std::runtime_error("HTTP server: cannot resolve " + where + ": " + ec.message());
  }
  // "localhost" may list ::1 first; prefer IPv4, which every local client reaches.
  tcp::endpoint endpoint = results.begin()->endpoint();
  for (const auto& entry : results) {
    if (entry.endpoint().address().is_v4()) {
      endpoint = entry.endpoint();
      break;
    }
  }
  auto fail = [&](const char* step) {
    throw std::runtime_error("HTTP server: cannot " + std::string(step) + " " + where + ": " +
                             ec.message());
  };
  impl->acceptor.open(endpoint.protocol(), ec);
  if (ec) fail("open socket for");
  // Lets a restart bind while old connections sit in TIME_WAIT; on Linux it still refuses
  // a port another process is listening on.
  impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  impl->acceptor.bind(endpoint, ec);
  if (ec) fail("listen on");
  impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) fail("listen on");
  port_ = impl->acceptor.local_endpoint().port();

  impl_ = std::move(impl);
  started_ = true;
  accept_next();
  impl_->thread = std::thread([this] {
    for (;;) {
      try {
        impl_->ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("http: unexpected exception on server thread: {}", e.what());
      }
    }
  });
  spdlog::info("http: listening on {}:{}", host, port_);
}

void HttpServer::accept_next() {
  impl_->acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !impl_->acceptor.is_open()) return;
    if (ec) {
      // E.g. out of file descriptors: back off instead of spinning on the error.
      spdlog::warn("http: accept failed: {}", ec.message());
      impl_->retry.expires_after(std::chrono::milliseconds(100));
      impl_->retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) accept_next();
      });
      return;
    }
    if (open_->load() >= options_.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);  // over the cap: refuse rather than queue
    } else {
      std::make_shared<Session>(std::move(socket), *this, options_, open_)->start();
    }
    accept_next();
  });
}

void HttpServer::stop() {
  if (!started_) return;
  net::post(impl_->ioc, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  // Destroying the io_context destroys pending handlers, which owns (and so closes) every
  // session still open.
  impl_.reset();
  started_ = false;
}

HttpResponse HttpServer::dispatch(HttpRequest& request) const {
  request.path = request.target.substr(0, request.target.find('?'));
  // Middleware i calls middleware i + 1; the last one calls route_request.
  std::function<HttpResponse(size_t, HttpRequest&)> run = [&](size_t i, HttpRequest& r) {
    if (i == middlewares_.size()) return route_request(r);
    return middlewares_[i](r, [&run, i](HttpRequest& next) { return run(i + 1, next); });
  };
  try {
    return run(0, request);
  } catch (const std::exception& e) {
    spdlog::error("http: {} {} failed: {}", request.method, request.path, e.what());
  } catch (...) {
    spdlog::error("http: {} {} failed: unknown exception", request.method, request.path);
  }
  return HttpResponse::error(500, "internal error");
}

HttpResponse HttpServer::route_request(HttpRequest& request) const {
  const size_t q = request.target.find('?');
  if (q != std::string::npos) {
    auto query = parse_query(std::string_view(request.target).substr(q + 1));
    if (!query) return HttpResponse::error(400, "malformed query string");
    request.query = std::move(*query);
  }
  Router::Match m = router_.match(request.method, request.path);
  switch (m.kind) {
    case Router::Match::kFound:
      request.path_params = std::move(m.params);
      try {
        return (*m.handler)(request);
      } catch (const std::exception& e) {
        spdlog::error("http: {} {} failed: {}", request.method, request.path, e.what());
        return HttpResponse::error(500, "internal error");
      } catch (...) {
        spdlog::error("http: {} {} failed: unknown exception", request.method, request.path);
        return HttpResponse::error(500, "internal error");
      }
    case Router::Match::kMethodNotAllowed: {
      HttpResponse r = HttpResponse::error(405, "method not allowed");
      r.headers.emplace_back("Allow", m.allow);
      return r;
    }
    case Router::Match::kBadPath:
      return HttpResponse::error(400, "malformed path");
    case Router::Match::kNotFound:
      break;
  }
  if (fallback_) {
    try {
      return fallback_(request);
    } catch (const std::exception& e) {
      spdlog::error("http: {} {} failed: {}", request.method, request.path, e.what());
      return HttpResponse::error(500, "internal error");
    }
  }
  return HttpResponse::error(404, "not found");
}

}  // namespace atende::api
