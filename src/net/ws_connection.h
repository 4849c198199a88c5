// A WebSocket client connection (Boost.Beast) for the cloud speech engines: OpenAI Realtime
// sessions (realtime/), streaming recognisers (speech/). It resolves, dials, handshakes (TLS
// first for wss://), reads every message and writes through a bounded queue; the protocol
// above it only sees whole messages and one end.
//
// Threads: everything runs on one io_context's thread (an IoThread): create(), start(),
// send_*() and close() must be called there, and every handler runs there. DNS names are
// resolved off that thread (asio's resolver), so nothing blocks it.
//
// TLS (wss://): the server's certificate is verified against the system's CA store (or
// WsOptions::ca_file), for the URL's host name (or address), with SNI set to the name.
// There is no way to skip the check. A certificate that fails it ends the connection with
// "tls: certificate rejected: <OpenSSL's reason>".
//
// Lifetime: the handlers are dropped as soon as the connection has ended (once none of them
// is running), and when the io_context is destroyed with the connection still up, so a
// handler may hold the connection's owner without making a cycle that outlives both.
// Owners should still hold themselves weakly in the handlers (speech/ws_stream_engine.cpp):
// then the owner's end, not the connection's, decides when it goes.
//
// Untrusted peer: a message over max_message_bytes, a binary message where none is
// expected, or a peer that stops reading (the write queue is full) ends the connection
// with a reason; nothing is buffered without bound.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace atende::net {

// "ws://HOST[:PORT]/PATH?QUERY" or "wss://HOST[:PORT]/PATH?QUERY" (TLS). HOST is a DNS
// name, a numeric address ([...] for IPv6) or localhost (dialled at 127.0.0.1); the port
// defaults to 80 (ws) or 443 (wss).
struct WsUrl {
  bool tls = false;
  std::string host;  // as written (IPv6 without its brackets): SNI and the name checked
  int port = 0;
  std::string target;  // path and query
};
// Empty string when `url` is usable, else what is wrong with it.
std::string parse_ws_url(std::string_view url, WsUrl& out);

struct WsOptions {
  WsUrl url;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Authorization
  size_t max_message_bytes = 1 << 20;
  size_t max_queued_writes = 64;
  // Resolve, TCP connect, TLS and WebSocket handshakes, all within this.
  std::chrono::milliseconds connect_timeout{10000};
  // wss://: a PEM file of the CAs to trust instead of the system's store (a private CA, the
  // tests' own). Empty: the system store (OpenSSL's default paths; SSL_CERT_FILE and
  // SSL_CERT_DIR override them).
  std::string ca_file;
};

struct WsHandlers {
  std::function<void()> on_open;                  // handshake done: sending is possible
  std::function<void(std::string_view)> on_text;  // a whole text message
  // A whole binary message; null: a binary message ends the connection.
  std::function<void(std::span<const uint8_t>)> on_binary;
  // Exactly once. `by_us`: close() was called; else why the peer or the network ended it
  // ("closed by the server" for a clean close from the peer).
  std::function<void(const std::string& why, bool by_us)> on_end;
};

class WsConnection : public std::enable_shared_from_this<WsConnection> {
 public:
  static std::shared_ptr<WsConnection> create(boost::asio::io_context& ioc, WsOptions options,
                                              WsHandlers handlers);
  virtual ~WsConnection() = default;

  virtual void start() = 0;
  // Queued in order; dropped once the connection has ended. A full queue ends it.
  virtual void send_text(std::string text) = 0;
  virtual void send_binary(std::string bytes) = 0;
  // A normal close handshake (the peer sees close code 1000); on_end(…, true) at once.
  virtual void close(std::string why = "closed by us") = 0;
  // Ends with `why` as if the peer had (a protocol error above): on_end(why, false).
  virtual void fail(std::string why) = 0;
  virtual bool is_open() const = 0;
  virtual bool ended() const = 0;
};

// An io_context on its own thread, for the WebSocket sessions of one engine. An exception
// escaping a handler is logged and the loop goes on.
class IoThread {
 public:
  explicit IoThread(std::string name);
  ~IoThread();  // stops the loop and joins: pending handlers are dropped
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  boost::asio::io_context& context();
  // Runs `fn` on the thread. Any thread.
  void post(std::function<void()> fn);
  bool on_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string name_;
  std::thread thread_;
};

}  // namespace atende::net
