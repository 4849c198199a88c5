// A small HTTP/1.1 server on Boost.Beast: its own io_context and one thread, a Router, and
// hard limits for hostile clients (header and body size, one deadline per request read or
// response write, a cap on open connections). Handlers run on the server thread, so they
// must be quick (a store read is fine; anything slow belongs on a worker).
//
//   HttpServer server;
//   server.route("GET", "/healthz", [](const HttpRequest&) { return HttpResponse::text(200,
//   "ok\n"); }); server.start("127.0.0.1", 8080);   // throws std::runtime_error("... address in
//   use")
//   ...
//   server.stop();
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/router.h"

namespace atende::api {

// Runs around every request, routed or not (auth, rate limits, audit): it may answer by
// itself or call `next` to route it. It may set fields of the request (e.g. principal).
using Next = std::function<HttpResponse(HttpRequest&)>;
using Middleware = std::function<HttpResponse(HttpRequest&, const Next& next)>;

// A WebSocket upgrade on one path (the ASP protocol, docs/asp.md). `check` runs after the
// middlewares, on the server thread; a reply with status 101 accepts the upgrade and `take`
// then owns the connection's socket `fd` (blocking mode as accepted; the request's bytes are
// consumed). Any other status is sent as the reply and the connection is kept as HTTP.
struct UpgradeRoute {
  std::function<HttpResponse(const HttpRequest&)> check;
  std::function<void(const HttpRequest&, int fd)> take;
};

// A plain GET on one path whose response is a stream the route writes itself (Server-Sent
// Events): `check` runs after the middlewares; 200 hands the connection's socket `fd` to
// `take`, which must write the response head and never block the caller (queue the fd on
// its own thread). Any other status is sent as an ordinary reply.
using TakeoverRoute = UpgradeRoute;

struct HttpServerOptions {
  size_t header_limit = 16 * 1024;  // request line + headers; beyond: 431
  size_t body_limit = 1024 * 1024;  // beyond: 413
  // Whole-request read deadline (also the keep-alive idle limit) and response write deadline.
  std::chrono::milliseconds request_timeout{15000};
  int max_connections = 256;  // further connections are closed at once
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options = {});
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Add routes before start(); throws std::logic_error once running.
  void route(std::string method, std::string_view pattern, Handler handler);
  // Add a middleware before start(); the first added is the outermost. Throws
  // std::logic_error once running.
  void use(Middleware middleware);
  // Add a WebSocket upgrade route before start(); throws std::logic_error once running.
  void upgrade(std::string path, UpgradeRoute route);
  // What answers a request no route matches (instead of 404): the web console's files.
  // Before start(); throws std::logic_error once running.
  void fallback(Handler handler);
  // Add a streaming GET route before start(); routes() lists it as "GET <path>". Throws
  // std::logic_error once running.
  void takeover(std::string path, TakeoverRoute route);

  // Binds and starts serving. `host` is an IP address or a name ("localhost"); port 0 picks
  // a free port (see port()). Throws std::runtime_error naming host:port and the reason.
  void start(const std::string& host, uint16_t port);
  // Closes the listener and every connection and joins the thread. Idempotent.
  void stop();

  uint16_t port() const { return port_; }
  // The routes added so far (method and pattern), for the OpenAPI drift test.
  std::vector<Router::RouteInfo> routes() const { return router_.routes(); }
  int open_connections() const;

  // Routing and error mapping without a socket (used by the server; handy in tests).
  HttpResponse dispatch(HttpRequest& request) const;
  // The upgrade route for `path`, or nullptr.
  const UpgradeRoute* upgrade_route(const std::string& path) const;
  // The takeover route for `path`, or nullptr.
  const TakeoverRoute* takeover_route(const std::string& path) const;
  // The middlewares, then the route's check.
  HttpResponse dispatch_upgrade(HttpRequest& request, const UpgradeRoute& route) const;

 private:
  HttpResponse route_request(HttpRequest& request) const;

  struct Impl;
  void accept_next();

  HttpServerOptions options_;
  Router router_;
  std::vector<Middleware> middlewares_;
  Handler fallback_;
  std::vector<std::pair<std::string, UpgradeRoute>> upgrades_;
  std::vector<std::pair<std::string, TakeoverRoute>> takeovers_;
  std::shared_ptr<std::atomic<int>> open_;  // shared with sessions, which may outlive impl_
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  bool started_ = false;
};

}  // namespace atende::api
