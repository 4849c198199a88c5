#include "hooks/webhook_sender.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <unordered_map>

#include "hooks/signature.h"
#include "net/http_client.h"

namespace atende::hooks {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// ---- helpers -----------------------------------------------------------------------

WebhookSenderOptions webhook_options(const Config& cfg) {
  WebhookSenderOptions o;
  o.endpoints = cfg.webhooks;
  return o;
}

std::chrono::milliseconds default_webhook_backoff(int attempts) {
  thread_local std::mt19937 rng{std::random_device{}()};
  const int shift = std::clamp(attempts - 1, 0, 6);
  const auto base = std::min<std::chrono::milliseconds>(1000ms * (1 << shift), 60s);
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<int64_t>(base.count() * jitter(rng)));
}

std::string format_iso8601_ms(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  int64_t secs = ms.count() / 1000;
  int64_t rem = ms.count() % 1000;
  if (rem < 0) {
    rem += 1000;
    --secs;
  }
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(rem));
  return buf;
}

namespace {

nlohmann::json parse_payload(const std::string& text) {
  if (text.empty()) return nlohmann::json::object();
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

std::string envelope(const sessions::SessionEvent& ev, const nlohmann::json& data) {
  nlohmann::ordered_json body;
  body["type"] = ev.type;
  body["call_id"] = ev.call_id;
  body["at"] = format_iso8601_ms(ev.at);
  body["data"] = data.is_discarded() ? nlohmann::json(nullptr) : data;
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int64_t unix_seconds_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::string webhook_body(const sessions::SessionEvent& event) {
  return envelope(event, parse_payload(event.json));
}

std::string redact_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "<url>";
  const size_t auth_start = scheme_end + 3;
  size_t auth_end = url.find_first_of("/?#", auth_start);
  if (auth_end == std::string::npos) auth_end = url.size();
  std::string authority = url.substr(auth_start, auth_end - auth_start);
  if (auto at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  size_t path_end = url.find_first_of("?#", auth_end);
  if (path_end == std::string::npos) path_end = url.size();
  return url.substr(0, auth_start) + authority + url.substr(auth_end, path_end - auth_end);
}

// ---- state of the delivery thread --------------------------------------------------

struct WebhookSender::Event {
  std::string type;
  std::string call_id;
  std::string body;
  int remaining = 0;  // deliveries not done yet
};

struct WebhookSender::Delivery {
  std::shared_ptr<Event> event;
  std::string id;    // X-Atende-Delivery, the same for every attempt
  int attempts = 0;  // made so far
  uint64_t key = 0;  // of the attempt in flight
  net::HttpRequestId http_id = 0;
};

struct WebhookSender::Endpoint {
  size_t index = 0;
  WebhookEndpointConfig cfg;
  std::string log_url;
  // Deliveries not started yet, per call, in arrival order. A call is `busy` while one of
  // its deliveries is in flight or backing off; `runnable` lists the calls that are not
  // busy and have something waiting, oldest first.
  struct CallQueue {
    std::deque<std::unique_ptr<Delivery>> waiting;
    bool busy = false;
  };
  std::unordered_map<std::string, CallQueue> calls;
  std::deque<std::string> runnable;
  std::multimap<Clock::time_point, std::unique_ptr<Delivery>> backing_off;
  std::deque<std::unique_ptr<Delivery>> retry_ready;  // backoff over, waiting for a slot
  std::unordered_map<uint64_t, std::unique_ptr<Delivery>> in_flight;  // by attempt key
  // Failure logging, at most once a minute per endpoint.
  bool logged_failure = false;
  Clock::time_point last_fail_log;
  uint64_t fails_not_logged = 0;

  size_t pending() const {
    size_t n = backing_off.size() + retry_ready.size() + in_flight.size();
    for (const auto& [id, q] : calls) n += q.waiting.size();
    return n;
  }
};

struct WebhookSender::Completion {
  size_t endpoint = 0;
  uint64_t key = 0;
  net::HttpError error = net::HttpError::none;
  int status = 0;
  std::string description;
};

// ---- public ------------------------------------------------------------------------

namespace {
MetricsRegistry& registry_of(const WebhookSenderOptions& o) {
  return o.metrics ? *o.metrics : global_metrics();
}
constexpr const char* kDeliveriesHelp =
    "Webhook delivery attempts' outcomes: ok (2xx), retried (failed attempt, tried again), "
    "failed (given up), abandoned (still pending at shutdown).";
}  // namespace

WebhookSender::WebhookSender(WebhookSenderOptions options)
    : options_(std::move(options)),
      ok_total_(registry_of(options_).counter("atende_webhook_deliveries_total", kDeliveriesHelp,
                                              {{"result", "ok"}})),
      failed_total_(registry_of(options_).counter("atende_webhook_deliveries_total",
                                                  kDeliveriesHelp, {{"result", "failed"}})),
      retried_total_(registry_of(options_).counter("atende_webhook_deliveries_total",
                                                   kDeliveriesHelp, {{"result", "retried"}})),
      abandoned_total_(registry_of(options_).counter("atende_webhook_deliveries_total",
                                                     kDeliveriesHelp, {{"result", "abandoned"}})),
      dropped_total_(registry_of(options_).counter(
          "atende_webhook_dropped_total",
          "Call events not queued for webhooks (queue full, or after shutdown began).")),
      queue_depth_(registry_of(options_).gauge(
          "atende_webhook_queue_depth",
          "Call events queued for webhooks and not yet delivered to every endpoint.")),
      last_drop_log_ns_(std::numeric_limits<int64_t>::min() / 2) {
  if (options_.max_in_flight == 0) options_.max_in_flight = 1;
  if (!enabled()) return;
  for (size_t i = 0; i < options_.endpoints.size(); ++i) {
    auto ep = std::make_unique<Endpoint>();
    ep->index = i;
    ep->cfg = options_.endpoints[i];
    ep->cfg.max_attempts = std::max(1, ep->cfg.max_attempts);
    ep->log_url = redact_url(ep->cfg.url);
    endpoints_.push_back(std::move(ep));
  }
  net::HttpClientOptions http;
  http.max_concurrent = options_.endpoints.size() * options_.max_in_flight;
  http.max_queued = http.max_concurrent + 16;
  http.user_agent = options_.user_agent;
  http_ = std::make_unique<net::HttpClient>(http);
  thread_ = std::thread([this] { run(); });
}

WebhookSender::~WebhookSender() { stop(); }

void WebhookSender::on_event(const sessions::SessionEvent& event) {
  if (!enabled()) return;
  bool accepted = false;
  if (depth_.fetch_add(1, std::memory_order_relaxed) < options_.queue_capacity) {
    std::lock_guard lock(mutex_);
    if (!closed_) {
      ingress_.push_back(event);
      accepted = true;
    }
  }
  if (accepted) {
    cv_.notify_one();
    return;
  }
  depth_.fetch_sub(1, std::memory_order_relaxed);
  dropped_.fetch_add(1, std::memory_order_relaxed);
  dropped_total_.inc();
  const int64_t now = Clock::now().time_since_epoch().count();
  int64_t last = last_drop_log_ns_.load(std::memory_order_relaxed);
  if (now - last >= std::chrono::nanoseconds(60s).count() &&
      last_drop_log_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    spdlog::warn(
        "webhooks: dropping call events: queue full ({} events) or shutting down; {} dropped "
        "so far (atende_webhook_dropped_total)",
        options_.queue_capacity, dropped_.load(std::memory_order_relaxed));
  }
}

void WebhookSender::stop() {
  std::lock_guard stop_lock(stop_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (!closed_) {
      closed_ = true;
      stop_deadline_ = Clock::now() + options_.stop_timeout;
    }
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  // Any transfer still known is answered with HttpError::shutdown; its completion is
  // queued and never read.
  http_.reset();
}

WebhookSender::Stats WebhookSender::stats() const {
  Stats s;
  s.ok = ok_.load();
  s.failed = failed_.load();
  s.retried = retried_.load();
  s.dropped = dropped_.load();
  s.abandoned = abandoned_.load();
  s.queued = depth_.load();
  return s;
}

// ---- delivery thread ---------------------------------------------------------------

std::chrono::milliseconds WebhookSender::backoff_for(int attempts) const {
  auto d = options_.backoff ? options_.backoff(attempts) : default_webhook_backoff(attempts);
  return std::max(d, std::chrono::milliseconds(0));
}

void WebhookSender::release_event(Event& ev) {
  if (--ev.remaining == 0) depth_.fetch_sub(1, std::memory_order_relaxed);
}

void WebhookSender::fan_out(const sessions::SessionEvent& in) {
  const nlohmann::json data = parse_payload(in.json);
  if (data.is_discarded()) {
    spdlog::warn("webhooks: call={} event={}: payload is not JSON; sending data: null", in.call_id,
                 in.type);
  }
  std::string flow;
  if (data.is_object()) {
    if (auto it = data.find("flow"); it != data.end() && it->is_string()) flow = *it;
  }
  auto ev = std::make_shared<Event>();
  ev->type = in.type;
  ev->call_id = in.call_id;
  ev->body = envelope(in, data);
  ev->remaining = 1;  // held by fan_out itself until the end, so it cannot hit 0 early
  for (auto& ep : endpoints_) {
    const auto& cfg = ep->cfg;
    if (!cfg.events.empty() && !contains(cfg.events, in.type)) continue;
    if (!cfg.flows.empty() && (flow.empty() || !contains(cfg.flows, flow))) continue;
    auto d = std::make_unique<Delivery>();
    d->event = ev;
    d->id = random_uuid();
    ++ev->remaining;
    auto& q = ep->calls[in.call_id];
    q.waiting.push_back(std::move(d));
    if (!q.busy && q.waiting.size() == 1) ep->runnable.push_back(in.call_id);
  }
  release_event(*ev);
}

void WebhookSender::start_attempt(Endpoint& ep, std::unique_ptr<Delivery> d) {
  ++d->attempts;
  d->key = next_attempt_key_++;
  const int64_t ts = unix_seconds_now();
  net::HttpRequest req;
  req.method = "POST";
  req.url = ep.cfg.url;
  req.body = d->event->body;
  req.headers = {
      {"Content-Type", "application/json"},
      {"X-Atende-Event", d->event->type},
      {"X-Atende-Delivery", d->id},
      {"X-Atende-Timestamp", std::to_string(ts)},
      {"X-Atende-Signature", webhook_signature(ep.cfg.secret, ts, req.body)},
  };
  req.connect_timeout = options_.connect_timeout;
  req.total_timeout = options_.request_timeout;
  req.idle_timeout = std::chrono::milliseconds(0);  // total_timeout covers it
  req.max_response_bytes = 64 * 1024;               // we read only the status
  req.max_retries = 0;                              // ours, with backoff, below
  const size_t index = ep.index;
  const uint64_t key = d->key;
  Delivery* raw = d.get();
  ep.in_flight.emplace(key, std::move(d));
  raw->http_id = http_->request(
      std::move(req), [](std::string_view) { return true; },  // discard 2xx bodies
      [this, index, key](net::HttpResult r) {
        Completion c{index, key, r.error, r.status, r.ok() ? std::string() : r.describe()};
        {
          std::lock_guard lock(mutex_);
          completions_.push_back(std::move(c));
        }
        cv_.notify_one();
      });
}

void WebhookSender::finish(Endpoint& ep, std::unique_ptr<Delivery> d) {
  const std::string& call_id = d->event->call_id;
  auto it = ep.calls.find(call_id);
  if (it != ep.calls.end()) {
    it->second.busy = false;
    if (it->second.waiting.empty()) {
      ep.calls.erase(it);
    } else {
      ep.runnable.push_back(call_id);
    }
  }
  release_event(*d->event);
}

void WebhookSender::log_failure(Endpoint& ep, const Delivery& d, const std::string& why) {
  const auto now = Clock::now();
  if (ep.logged_failure && now - ep.last_fail_log < 60s) {
    ++ep.fails_not_logged;
    return;
  }
  spdlog::warn("webhooks: call={} event={} delivery={} to {} failed after {} attempt(s): {}{}",
               d.event->call_id, d.event->type, d.id, ep.log_url, d.attempts, why,
               ep.fails_not_logged ? " (and " + std::to_string(ep.fails_not_logged) +
                                         " other failed deliveries to it since the last message)"
                                   : std::string());
  ep.logged_failure = true;
  ep.last_fail_log = now;
  ep.fails_not_logged = 0;
}

void WebhookSender::handle_completion(Completion& c) {
  if (c.endpoint >= endpoints_.size()) return;
  Endpoint& ep = *endpoints_[c.endpoint];
  auto it = ep.in_flight.find(c.key);
  if (it == ep.in_flight.end()) return;
  std::unique_ptr<Delivery> d = std::move(it->second);
  ep.in_flight.erase(it);
  if (c.error == net::HttpError::none && c.status >= 200 && c.status < 300) {
    ok_.fetch_add(1, std::memory_order_relaxed);
    ok_total_.inc();
    finish(ep, std::move(d));
    return;
  }
  const bool refused =
      c.error == net::HttpError::invalid || (c.error == net::HttpError::none && c.status >= 400 &&
                                             c.status < 500 && c.status != 408 && c.status != 429);
  if (!refused && d->attempts < ep.cfg.max_attempts) {
    retried_.fetch_add(1, std::memory_order_relaxed);
    retried_total_.inc();
    const auto delay = backoff_for(d->attempts);
    spdlog::debug(
        "webhooks: call={} event={} delivery={} to {}: attempt {} failed ({}), retry in {} ms",
        d->event->call_id, d->event->type, d->id, ep.log_url, d->attempts, c.description,
        delay.count());
    ep.backing_off.emplace(Clock::now() + delay, std::move(d));
    return;
  }
  failed_.fetch_add(1, std::memory_order_relaxed);
  failed_total_.inc();
  log_failure(ep, *d, c.description);
  finish(ep, std::move(d));
}

void WebhookSender::schedule(Endpoint& ep) {
  const auto now = Clock::now();
  while (!ep.backing_off.empty() && ep.backing_off.begin()->first <= now) {
    ep.retry_ready.push_back(std::move(ep.backing_off.begin()->second));
    ep.backing_off.erase(ep.backing_off.begin());
  }
  while (ep.in_flight.size() < options_.max_in_flight) {
    if (!ep.retry_ready.empty()) {
      auto d = std::move(ep.retry_ready.front());
      ep.retry_ready.pop_front();
      start_attempt(ep, std::move(d));
      continue;
    }
    if (ep.runnable.empty()) break;
    const std::string call_id = std::move(ep.runnable.front());
    ep.runnable.pop_front();
    auto& q = ep.calls[call_id];
    if (q.busy || q.waiting.empty()) continue;  // defensive: not expected
    auto d = std::move(q.waiting.front());
    q.waiting.pop_front();
    q.busy = true;
    start_attempt(ep, std::move(d));
  }
}

bool WebhookSender::idle() const {
  for (const auto& ep : endpoints_) {
    if (ep->pending() > 0) return false;
  }
  return true;
}

size_t WebhookSender::abandon_all() {
  size_t n = 0;
  auto drop = [&](std::unique_ptr<Delivery>& d) {
    ++n;
    release_event(*d->event);
    d.reset();
  };
  for (auto& ep : endpoints_) {
    for (auto& [key, d] : ep->in_flight) {
      http_->cancel(d->http_id);
      drop(d);
    }
    for (auto& [at, d] : ep->backing_off) drop(d);
    for (auto& d : ep->retry_ready) drop(d);
    for (auto& [id, q] : ep->calls) {
      for (auto& d : q.waiting) drop(d);
    }
    ep->in_flight.clear();
    ep->backing_off.clear();
    ep->retry_ready.clear();
    ep->calls.clear();
    ep->runnable.clear();
  }
  abandoned_.fetch_add(n, std::memory_order_relaxed);
  abandoned_total_.inc(n);
  return n;
}

void WebhookSender::run() {
  std::deque<sessions::SessionEvent> events;
  std::vector<Completion> done;
  for (;;) {
    // Wake for new events, completions, the next retry, or the stop deadline.
    auto wake = Clock::time_point::max();
    for (const auto& ep : endpoints_) {
      if (!ep->backing_off.empty()) wake = std::min(wake, ep->backing_off.begin()->first);
    }
    bool closed;
    Clock::time_point deadline;
    {
      std::unique_lock lock(mutex_);
      if (closed_) wake = std::min(wake, stop_deadline_);
      auto ready = [this] { return !ingress_.empty() || !completions_.empty() || closed_; };
      if (wake == Clock::time_point::max()) {
        cv_.wait(lock, ready);
      } else {
        cv_.wait_until(lock, wake, [&] {
          return !ingress_.empty() || !completions_.empty() || (closed_ && wake > stop_deadline_);
        });
      }
      events.swap(ingress_);
      done.swap(completions_);
      closed = closed_;
      deadline = stop_deadline_;
    }
    for (auto& c : done) handle_completion(c);
    done.clear();
    for (const auto& ev : events) fan_out(ev);
    events.clear();
    const auto now = Clock::now();
    if (closed) {
      // A retry due after the deadline will never be made: give it up now, so stop()
      // returns as soon as the rest is delivered.
      for (auto& ep : endpoints_) {
        auto first_late = ep->backing_off.upper_bound(deadline);
        size_t late = 0;
        for (auto it = first_late; it != ep->backing_off.end(); ++it) {
          release_event(*it->second->event);
          ++late;
        }
        ep->backing_off.erase(first_late, ep->backing_off.end());
        if (late) {
          abandoned_.fetch_add(late, std::memory_order_relaxed);
          abandoned_total_.inc(late);
        }
      }
    }
    for (auto& ep : endpoints_) schedule(*ep);
    queue_depth_.set(static_cast<int64_t>(depth_.load(std::memory_order_relaxed)));
    if (closed && idle()) break;
    if (closed && now >= deadline) {
      const size_t n = abandon_all();
      if (n) {
        spdlog::warn("webhooks: shutting down with {} deliveries still pending; given up", n);
      }
      break;
    }
  }
  queue_depth_.set(static_cast<int64_t>(depth_.load(std::memory_order_relaxed)));
}

}  // namespace atende::hooks
