#include "net/http_client.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

namespace atende::net {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool has_crlf(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

// Why a request cannot be sent, or "" if it can.
std::string validate(const HttpRequest& r) {
  if (r.url.rfind("http://", 0) != 0 && r.url.rfind("https://", 0) != 0)
    return "url must start with http:// or https://";
  if (has_crlf(r.url) || r.url.find(' ') != std::string::npos) return "url contains whitespace";
  if (r.method.empty() ||
      r.method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
    return "bad method";
  for (const auto& [name, value] : r.headers) {
    if (name.empty() || has_crlf(name) || name.find(':') != std::string::npos || has_crlf(value))
      return "bad header '" + name.substr(0, 40) + "'";
  }
  return {};
}

bool retryable_status(int status) { return status == 429 || status >= 500; }

}  // namespace

const char* to_string(HttpError error) {
  switch (error) {
    case HttpError::none:
      return "none";
    case HttpError::invalid:
      return "invalid";
    case HttpError::rejected:
      return "rejected";
    case HttpError::connect:
      return "connect";
    case HttpError::timeout:
      return "timeout";
    case HttpError::too_large:
      return "too_large";
    case HttpError::aborted:
      return "aborted";
    case HttpError::cancelled:
      return "cancelled";
    case HttpError::shutdown:
      return "shutdown";
    case HttpError::transport:
      return "transport";
  }
  return "unknown";
}

std::string HttpResult::describe() const {
  if (error != HttpError::none) {
    std::string s = to_string(error);
    if (!message.empty()) s += ": " + message;
    return s;
  }
  std::string s = "HTTP " + std::to_string(status);
  if (!body.empty()) {
    // Bodies come from the provider: keep logs one line and short.
    std::string excerpt = body.substr(0, 200);
    for (char& c : excerpt)
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    s += ": " + excerpt;
  }
  return s;
}

std::string api_key(const std::string& configured, const char* env_name) {
  if (!configured.empty()) return configured;
  if (env_name == nullptr) return {};
  const char* v = std::getenv(env_name);
  return v ? std::string(v) : std::string();
}

struct HttpClient::Transfer {
  HttpRequestId id = 0;
  HttpRequest req;
  HttpDataCallback on_data;
  HttpDoneCallback on_done;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {};
  Clock::time_point created = Clock::now();
  Clock::time_point last_activity;
  Clock::time_point not_before;             // back-off before a retry
  bool delivered = false;                   // on_data has seen at least one byte (no more retries)
  HttpError local_error = HttpError::none;  // set by the write callback
  HttpResult result;

  ~Transfer() { release(); }
  void release() {
    if (easy) curl_easy_cleanup(easy);
    if (headers) curl_slist_free_all(headers);
    easy = nullptr;
    headers = nullptr;
  }

  int status() const {
    long code = 0;
    if (easy) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    return static_cast<int>(code);
  }

  static size_t on_header(char*, size_t size, size_t n, void* self) {
    static_cast<Transfer*>(self)->last_activity = Clock::now();
    return size * n;
  }

  static size_t on_write(char* data, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<Transfer*>(self_ptr);
    const size_t len = size * n;
    self->last_activity = Clock::now();
    if (self->result.first_byte_seconds < 0)
      self->result.first_byte_seconds = seconds_since(self->created);
    if (self->result.bytes_received + len > self->req.max_response_bytes) {
      self->local_error = HttpError::too_large;
      return 0;  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
    }
    self->result.bytes_received += len;
    const int status = self->status();
    if (self->on_data && status >= 200 && status < 300) {
      self->delivered = true;
      bool go_on = false;
      try {
        go_on = self->on_data(std::string_view(data, len));
      } catch (const std::exception& e) {
        spdlog::warn("http: on_data threw: {}", e.what());
      }
      if (!go_on) {
        self->local_error = HttpError::aborted;
        return 0;
      }
    } else {
      self->result.body.append(data, len);
    }
    return len;
  }
};

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {
  global_init();
  multi_ = curl_multi_init();
  if (!multi_) throw std::runtime_error("curl_multi_init failed");
  thread_ = std::thread([this] { run(); });
}

HttpClient::~HttpClient() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  thread_.join();
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

HttpRequestId HttpClient::request(HttpRequest request, HttpDataCallback on_data,
                                  HttpDoneCallback on_done) {
  auto t = std::make_unique<Transfer>();
  t->req = std::move(request);
  t->on_data = std::move(on_data);
  t->on_done = std::move(on_done);
  HttpRequestId id;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    t->id = id;
    ++stats_.started;
    if (pending_ >= options_.max_queued) {
      // Still answered on the client thread, like every other outcome.
      t->local_error = HttpError::rejected;
    } else {
      ++pending_;
    }
    commands_.push_back({Command::Kind::start, id, std::move(t)});
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  return id;
}

void HttpClient::cancel(HttpRequestId id) {
  {
    std::lock_guard lock(mutex_);
    commands_.push_back({Command::Kind::cancel, id, nullptr});
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

HttpClient::Stats HttpClient::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

namespace {
template <typename T>
std::unique_ptr<T> take(std::vector<std::unique_ptr<T>>& v, T* p) {
  auto it = std::find_if(v.begin(), v.end(), [p](const auto& u) { return u.get() == p; });
  if (it == v.end()) return nullptr;
  std::unique_ptr<T> out = std::move(*it);
  v.erase(it);
  return out;
}
}  // namespace

void HttpClient::finish(Transfer* raw, HttpError error, std::string message) {
  std::unique_ptr<Transfer> t = take(active_, raw);
  if (!t) t = take(waiting_, raw);
  if (!t) return;
  if (t->easy) {
    curl_multi_remove_handle(static_cast<CURLM*>(multi_), t->easy);
    char* ct = nullptr;
    if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
      t->result.content_type = ct;
    t->result.status = t->status();
  }
  t->release();
  t->result.error = error;
  t->result.message = std::move(message);
  t->result.seconds = seconds_since(t->created);
  {
    std::lock_guard lock(mutex_);
    ++stats_.completed;
  }
  try {
    if (t->on_done) t->on_done(std::move(t->result));
  } catch (const std::exception& e) {
    spdlog::warn("http: on_done threw: {}", e.what());
  }
}

bool HttpClient::start_attempt(Transfer* t) {
  CURL* e = curl_easy_init();
  if (!e) return false;
  t->easy = e;
  t->errbuf[0] = 0;
  t->local_error = HttpError::none;
  t->result.body.clear();
  t->result.bytes_received = 0;
  ++t->result.attempts;
  t->last_activity = Clock::now();
  const auto& r = t->req;
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_PRIVATE, t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Transfer::on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout.count()));
  if (r.total_timeout.count() > 0) {
    // The total limit covers retries too: give this attempt only what is left.
    auto left = r.total_timeout -
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t->created);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, left.count())));
  }
  if (r.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else {
    if (r.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    if (r.method == "POST" || !r.body.empty()) {
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
    }
  }
  // "Expect: 100-continue" would stall large uploads on servers that never send 100.
  t->headers = curl_slist_append(t->headers, "Expect:");
  for (const auto& [name, value] : r.headers)
    t->headers = curl_slist_append(t->headers, (name + ": " + value).c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  return curl_multi_add_handle(static_cast<CURLM*>(multi_), e) == CURLM_OK;
}

void HttpClient::handle_commands() {
  std::deque<Command> cmds;
  {
    std::lock_guard lock(mutex_);
    cmds.swap(commands_);
  }
  for (auto& c : cmds) {
    if (c.kind == Command::Kind::start) {
      Transfer* t = c.transfer.get();
      waiting_.push_back(std::move(c.transfer));
      if (t->local_error == HttpError::rejected) {
        finish(t, HttpError::rejected, "too many queued requests");
      } else if (auto why = validate(t->req); !why.empty()) {
        {
          std::lock_guard lock(mutex_);
          --pending_;
        }
        finish(t, HttpError::invalid, why);
      }
    } else {
      auto match = [&](const auto& u) { return u->id == c.id; };
      if (auto it = std::find_if(active_.begin(), active_.end(), match); it != active_.end()) {
        finish(it->get(), HttpError::cancelled, "cancelled");
      } else if (auto w = std::find_if(waiting_.begin(), waiting_.end(), match);
                 w != waiting_.end()) {
        {
          std::lock_guard lock(mutex_);
          --pending_;
        }
        finish(w->get(), HttpError::cancelled, "cancelled");
      }
    }
  }
}

void HttpClient::start_ready_transfers() {
  const auto now = Clock::now();
  for (size_t i = 0; i < waiting_.size() && active_.size() < options_.max_concurrent;) {
    Transfer* t = waiting_[i].get();
    if (t->not_before > now) {
      ++i;
      continue;
    }
    std::unique_ptr<Transfer> owned = std::move(waiting_[i]);
    waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(i));
    {
      std::lock_guard lock(mutex_);
      --pending_;
    }
    active_.push_back(std::move(owned));
    if (!start_attempt(t)) finish(t, HttpError::transport, "could not start a libcurl transfer");
  }
}

void HttpClient::check_timeouts() {
  const auto now = Clock::now();
  std::vector<Transfer*> expired;
  for (auto& t : active_) {
    const auto& r = t->req;
    if (r.idle_timeout.count() > 0 && now - t->last_activity > r.idle_timeout)
      expired.push_back(t.get());
  }
  for (Transfer* t : expired) {
    // A stall before any byte counts like a failed attempt (retry if allowed).
    if (!t->delivered && t->result.bytes_received == 0 && t->status() == 0 &&
        t->result.attempts <= t->req.max_retries) {
      t->local_error = HttpError::timeout;
      curl_multi_remove_handle(static_cast<CURLM*>(multi_), t->easy);
      t->release();
      std::unique_ptr<Transfer> owned = take(active_, t);
      t->not_before = now;
      std::lock_guard lock(mutex_);
      ++pending_;
      ++stats_.retries;
      waiting_.push_back(std::move(owned));
      continue;
    }
    finish(t, HttpError::timeout,
           "no data for " + std::to_string(t->req.idle_timeout.count()) + " ms");
  }
}

void HttpClient::collect_completed() {
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(static_cast<CURLM*>(multi_), &left)) {
    if (m->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
    if (!t) continue;
    const CURLcode code = m->data.result;
    const int status = t->status();
    HttpError error = HttpError::none;
    std::string message;
    if (code != CURLE_OK) {
      message = t->errbuf[0] ? t->errbuf : curl_easy_strerror(code);
      if (t->local_error != HttpError::none) {
        error = t->local_error;
        if (error == HttpError::too_large)
          message = "response over " + std::to_string(t->req.max_response_bytes) + " bytes";
        else if (error == HttpError::aborted)
          message = "stopped by the receiver";
      } else if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
                 code == CURLE_COULDNT_RESOLVE_PROXY) {
        error = HttpError::connect;
      } else if (code == CURLE_OPERATION_TIMEDOUT) {
        error = HttpError::timeout;
      } else {
        error = HttpError::transport;
      }
    }
    const bool total_left = t->req.total_timeout.count() == 0 ||
                            Clock::now() - t->created + t->req.retry_delay < t->req.total_timeout;
    const bool failed_attempt =
        error == HttpError::connect ||
        (error == HttpError::timeout && t->result.bytes_received == 0 && status == 0) ||
        (error == HttpError::none && retryable_status(status));
    if (failed_attempt && !t->delivered && t->result.attempts <= t->req.max_retries && total_left) {
      curl_multi_remove_handle(static_cast<CURLM*>(multi_), t->easy);
      t->release();
      std::unique_ptr<Transfer> owned = take(active_, t);
      const int shift = std::min(t->result.attempts - 1, 6);
      t->not_before = Clock::now() + t->req.retry_delay * (1 << shift);
      std::lock_guard lock(mutex_);
      ++pending_;
      ++stats_.retries;
      waiting_.push_back(std::move(owned));
      continue;
    }
    finish(t, error, std::move(message));
  }
}

void HttpClient::run() {
  auto* multi = static_cast<CURLM*>(multi_);
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    handle_commands();
    start_ready_transfers();
    int running = 0;
    curl_multi_perform(multi, &running);
    collect_completed();
    check_timeouts();
    start_ready_transfers();
    {
      std::lock_guard lock(mutex_);
      stats_.active = active_.size();
      stats_.queued = pending_;
    }
    // Idle and back-off deadlines are ours, not libcurl's: wake at least every 20 ms while
    // anything is in flight or backing off.
    const int wait_ms = (active_.empty() && waiting_.empty()) ? 1000 : 20;
    curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
  }
  // Shutdown: everything still known gets its on_done. A callback may issue new requests
  // while we do this; they are answered in the next round, until none are left.
  for (;;) {
    handle_commands();
    std::vector<Transfer*> all;
    for (auto& t : active_) all.push_back(t.get());
    for (auto& t : waiting_) all.push_back(t.get());
    for (Transfer* t : all) finish(t, HttpError::shutdown, "client shutting down");
    std::lock_guard lock(mutex_);
    if (commands_.empty()) {
      pending_ = 0;
      break;
    }
  }
}

}  // namespace atende::net
