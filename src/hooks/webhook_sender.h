// WebhookSender: POSTs call events (sessions::SessionEvent) to the HTTP endpoints of the
// `webhooks:` config, signed with each endpoint's secret (docs/api.md "Webhooks").
//
//   hooks::WebhookSender webhooks(hooks::webhook_options(cfg));   // cfg: atende::Config
//   auto sub = control.subscribe([&](const sessions::SessionEvent& e) { webhooks.on_event(e); });
//   ...                                      // shutdown:
//   control.unsubscribe(sub);
//   webhooks.stop();                         // delivers what is queued for <= stop_timeout
//
// Threads: on_event() may be called from any thread and never blocks: it copies the event
// into a bounded queue (a short mutex, no I/O) and returns; when the queue is full the event
// is dropped and counted. One delivery thread of its own fans events out to the endpoints
// whose filters match and hands the requests to a net::HttpClient (its own thread).
//
// Delivery, per endpoint:
//  - at most `max_in_flight` requests at once;
//  - the events of one call go out in the order they came, one at a time: a later event of
//    a call waits while an earlier one is in flight or backing off (other calls go on);
//  - a transport error, timeout or non-2xx answer is retried after backoff(attempt) (default
//    1 s, 2 s, 4 s ... capped at 60 s, with +-20 % jitter) until the endpoint's max_attempts;
//    4xx other than 408 and 429 is final (the receiver refused it: retrying cannot help);
//  - every attempt has a fresh X-Atende-Timestamp and signature; X-Atende-Delivery stays the
//    same across the attempts of one delivery so receivers can drop duplicates.
// The queue bound counts events from on_event() until every endpoint is done with them.
// Secrets are never logged; URLs are logged without user info and query.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/config_webhooks.h"
#include "core/metrics.h"
#include "sessions/call_control.h"

namespace atende::net {
class HttpClient;
struct HttpResult;
}  // namespace atende::net

namespace atende::hooks {

struct WebhookSenderOptions {
  std::vector<WebhookEndpointConfig> endpoints;  // none: on_event() returns at once
  size_t queue_capacity = 10000;                 // events accepted and not yet done
  size_t max_in_flight = 4;                      // requests at once, per endpoint
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds request_timeout{5000};  // whole request, per attempt
  std::chrono::milliseconds stop_timeout{3000};     // how long stop() may keep delivering
  // Delay before the next attempt after `attempts` failed ones (1, 2, ...). Empty: the
  // default schedule above. Tests inject a few milliseconds.
  std::function<std::chrono::milliseconds(int attempts)> backoff;
  MetricsRegistry* metrics = nullptr;  // null: global_metrics()
  std::string user_agent = "atende-webhooks";
};

// The options for cfg.webhooks, everything else at its default.
WebhookSenderOptions webhook_options(const Config& cfg);

// The default backoff: 1 s * 2^(attempts-1), at most 60 s, times a random 0.8..1.2.
std::chrono::milliseconds default_webhook_backoff(int attempts);

// The JSON body POSTed for an event: {"type","call_id","at" (ISO-8601 UTC, ms),"data"}.
// `data` is the event's payload object (null if event.json is not valid JSON).
std::string webhook_body(const sessions::SessionEvent& event);
// "2024-05-01T12:00:00.123Z".
std::string format_iso8601_ms(std::chrono::system_clock::time_point t);
// "https://user:pw@host/p?token=x" -> "https://host/p": for logs.
std::string redact_url(const std::string& url);

class WebhookSender {
 public:
  explicit WebhookSender(WebhookSenderOptions options);
  ~WebhookSender();  // stop()
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  // Any thread, never blocks. After stop() events are dropped (and counted).
  void on_event(const sessions::SessionEvent& event);

  // Stops taking events, keeps delivering what is queued (retries included) for at most
  // options.stop_timeout, then gives up on the rest (counted as abandoned) and joins.
  // Returns within stop_timeout plus a few milliseconds. Idempotent, any thread except a
  // callback of this sender.
  void stop();

  bool enabled() const { return !options_.endpoints.empty(); }

  struct Stats {
    uint64_t ok = 0;         // deliveries answered 2xx
    uint64_t failed = 0;     // deliveries given up: attempts exhausted or refused (4xx)
    uint64_t retried = 0;    // attempts that failed and were scheduled again
    uint64_t dropped = 0;    // events refused by on_event (queue full, or after stop)
    uint64_t abandoned = 0;  // deliveries still pending when stop() gave up
    size_t queued = 0;       // events accepted and not yet done
  };
  Stats stats() const;

 private:
  struct Event;
  struct Delivery;
  struct Endpoint;
  struct Completion;

  void run();
  void fan_out(const sessions::SessionEvent& ev);
  void handle_completion(Completion& c);
  void schedule(Endpoint& ep);
  void start_attempt(Endpoint& ep, std::unique_ptr<Delivery> d);
  void finish(Endpoint& ep, std::unique_ptr<Delivery> d);
  void release_event(Event& ev);
  void log_failure(Endpoint& ep, const Delivery& d, const std::string& why);
  size_t abandon_all();
  bool idle() const;
  std::chrono::milliseconds backoff_for(int attempts) const;

  WebhookSenderOptions options_;
  Counter& ok_total_;
  Counter& failed_total_;
  Counter& retried_total_;
  Counter& abandoned_total_;
  Counter& dropped_total_;
  Gauge& queue_depth_;

  std::atomic<size_t> depth_{0};  // events accepted and not done
  std::atomic<uint64_t> ok_{0}, failed_{0}, retried_{0}, dropped_{0}, abandoned_{0};
  std::atomic<int64_t> last_drop_log_ns_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<sessions::SessionEvent> ingress_;           // guarded by mutex_
  std::vector<Completion> completions_;                  // guarded by mutex_
  bool closed_ = false;                                  // guarded by mutex_: stop() was called
  std::chrono::steady_clock::time_point stop_deadline_;  // guarded by mutex_

  // Owned by the delivery thread:
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  uint64_t next_attempt_key_ = 1;

  std::mutex stop_mutex_;
  std::unique_ptr<net::HttpClient> http_;
  std::thread thread_;
};

}  // namespace atende::hooks
