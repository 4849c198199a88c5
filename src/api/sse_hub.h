// Server-Sent Events to many clients from one thread of its own (GET /api/events).
//
// The HTTP server hands each accepted stream's socket over (HttpServer::takeover) and goes
// back to its requests at once: everything a stream costs happens here. Each client has a
// bounded queue of bytes; a client that does not read (its queue would pass
// max_queued_bytes) is dropped and counted, so one slow browser never holds memory or the
// others. Every ping_interval a ": ping" comment keeps proxies from closing idle streams.
//
//   api::SseHub hub({.metrics = &registry});
//   hub.start();
//   hub.post([&] { hub.broadcast(R"({"type":"call.ended",...})"); });  // from any thread
//   hub.adopt(fd, [] { return snapshot_json(); });  // the client's first event
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/metrics.h"

namespace atende::api {

struct SseHubOptions {
  size_t max_clients = 32;               // more: can_accept() says no (the route answers 503)
  size_t max_queued_bytes = 512 * 1024;  // per client; beyond: the client is dropped
  size_t max_posted = 10'000;            // tasks waiting for the hub thread; beyond: dropped
  std::chrono::milliseconds ping_interval{15'000};
  MetricsRegistry* metrics = nullptr;  // atende_sse_* (docs/metrics.md); null: none
};

class SseHub {
 public:
  explicit SseHub(SseHubOptions options = {});
  ~SseHub();  // stop()
  SseHub(const SseHub&) = delete;
  SseHub& operator=(const SseHub&) = delete;

  void start();
  // Closes every stream and joins the thread. Idempotent.
  void stop();

  // Any thread: whether one more client fits (a hint: adopt() checks again).
  bool can_accept() const;
  size_t clients() const;

  // Any thread: the hub owns `fd` from now on (closes it when done). On the hub thread it
  // writes the response head, then `first()` as the first event, then every broadcast.
  void adopt(int fd, std::function<std::string()> first);
  // Any thread: run `task` on the hub thread, in the order posted. False (and not run)
  // when max_posted tasks already wait: the caller's event is lost, and every client is
  // dropped at the next task so that each reconnects and starts from a fresh snapshot.
  bool post(std::function<void()> task);
  // Hub thread only (inside a posted task): one `data:` event to every client. `json` is
  // one line (no newlines: JSON serialised compactly has none).
  void broadcast(const std::string& json);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace atende::api
