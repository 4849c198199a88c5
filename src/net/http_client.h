// Asynchronous HTTP client for the speech and language providers (STT, LLM, TTS), shared
// by every engine that talks to an OpenAI-compatible service.
//
// One thread runs libcurl's multi interface for all requests of one HttpClient, so a
// request never blocks the caller: request() queues and returns at once. Everything the
// client reports (body chunks, completion) runs on that thread; callbacks must be quick and
// must not block (post the result to your own thread). Guarantees:
//
//  - `on_done` runs exactly once per request() call (also when rejected, cancelled, or the
//    client is destroyed), always on the client's thread, and after the last `on_data`.
//  - Streaming: if `on_data` is set, each chunk of a 2xx response body is delivered as it
//    arrives (SSE, streamed audio) and HttpResult::body stays empty. Non-2xx bodies are
//    never streamed: they are collected (bounded) into HttpResult::body for the error text,
//    so a JSON error page is never fed to an SSE parser.
//  - Bounded: at most `max_concurrent` transfers at once, `max_queued` waiting; response
//    bodies beyond `max_response_bytes` end the transfer (Error::too_large).
//  - Timeouts: connect, total, and idle (no byte received for that long: a provider that
//    stalls mid-stream), checked to ~20 ms.
//  - Retries (opt-in, max_retries): on a connection failure, a timeout before any byte
//    arrived, or a 5xx/429 status — and only while nothing was delivered to on_data, so a
//    stream is never replayed twice to its consumer.
//  - cancel(id) from any thread ends a transfer; on_done then reports Error::cancelled
//    (unless it had already completed).
//
// Example:
//   net::HttpClient http;                        // one per process is plenty
//   net::HttpRequest req;
//   req.method = "POST";
//   req.url = "http://127.0.0.1:8000/v1/chat/completions";
//   req.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer sk-..."}};
//   req.body = R"({"model":"m","stream":true,"messages":[...]})";
//   req.idle_timeout = std::chrono::milliseconds(1500);
//   auto id = http.request(std::move(req),
//       [&](std::string_view chunk) { sse.feed(chunk); return true; },   // false = abort
//       [&](net::HttpResult r) { if (!r.ok()) log(r.describe()); });
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace atende::net {

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PUT, DELETE, ...
  std::string url;             // http:// or https:// only
  // Name/value pairs, e.g. {"Content-Type", "application/json"}. Values must not contain
  // CR or LF (the request is refused with Error::invalid otherwise).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent as is (POST/PUT); build multipart bodies with net/multipart.h
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds total_timeout{30000};  // whole transfer, 0 = no limit
  std::chrono::milliseconds idle_timeout{10000};   // no byte received for this long, 0 = off
  size_t max_response_bytes = 1u << 20;            // body bytes, streamed or collected
  int max_retries = 0;                             // see header comment: only where safe
  std::chrono::milliseconds retry_delay{200};      // doubled per further attempt
};

enum class HttpError {
  none,       // a response arrived (look at status)
  invalid,    // bad URL / scheme / header: never sent
  rejected,   // queue full
  connect,    // could not resolve or connect
  timeout,    // connect, total or idle timeout
  too_large,  // response body over max_response_bytes
  aborted,    // on_data returned false
  cancelled,  // cancel(id)
  shutdown,   // the client was destroyed first
  transport,  // any other libcurl failure (reset connection, TLS, malformed response...)
};

const char* to_string(HttpError error);

struct HttpResult {
  HttpError error = HttpError::none;
  int status = 0;                  // HTTP status, 0 if no response head arrived
  std::string content_type;        // of the response, "" if none
  std::string body;                // collected body (empty when streamed to on_data with a 2xx)
  std::string message;             // libcurl's error text or our own reason
  int attempts = 0;                // 1 + retries made
  size_t bytes_received = 0;       // body bytes of the last attempt
  double seconds = 0;              // from request() to completion, retries included
  double first_byte_seconds = -1;  // from request() to the first body byte, -1 if none

  bool ok() const { return error == HttpError::none && status >= 200 && status < 300; }
  // "HTTP 503: <start of body>" / "timeout: ..." — for logs and Recognition::error.
  std::string describe() const;
};

// Returns false to abort the transfer (on_done then gets HttpError::aborted).
using HttpDataCallback = std::function<bool(std::string_view chunk)>;
using HttpDoneCallback = std::function<void(HttpResult)>;
using HttpRequestId = uint64_t;

struct HttpClientOptions {
  size_t max_concurrent = 32;  // transfers in flight
  size_t max_queued = 512;     // waiting for a slot (and for a retry's back-off)
  std::string user_agent = "atende";
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  // Ends every transfer (on_done with HttpError::shutdown, on the client's thread) and
  // joins. Must not be called from one of this client's callbacks.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Thread-safe, never blocks on the network. on_data may be empty (collect the body).
  HttpRequestId request(HttpRequest request, HttpDataCallback on_data, HttpDoneCallback on_done);
  // Thread-safe; a no-op for finished or unknown ids.
  void cancel(HttpRequestId id);

  struct Stats {
    uint64_t started = 0;    // request() calls
    uint64_t completed = 0;  // on_done calls
    uint64_t retries = 0;
    size_t active = 0;  // in flight now
    size_t queued = 0;  // waiting now
  };
  Stats stats() const;

 private:
  struct Transfer;
  struct Command {
    enum class Kind { start, cancel } kind;
    HttpRequestId id = 0;
    std::unique_ptr<Transfer> transfer;
  };
  void run();
  void handle_commands();
  void start_ready_transfers();
  void check_timeouts();
  void finish(Transfer* t, HttpError error, std::string message);
  void collect_completed();
  bool start_attempt(Transfer* t);

  HttpClientOptions options_;
  void* multi_ = nullptr;  // CURLM*, kept out of this header so users need no curl headers
  mutable std::mutex mutex_;
  std::deque<Command> commands_;  // guarded by mutex_
  bool stopping_ = false;         // guarded by mutex_
  HttpRequestId next_id_ = 1;     // guarded by mutex_
  size_t pending_ = 0;            // queued + waiting for retry, guarded by mutex_
  Stats stats_;                   // guarded by mutex_
  // Owned by the client thread only:
  std::vector<std::unique_ptr<Transfer>> waiting_;  // not started yet, or backing off
  std::vector<std::unique_ptr<Transfer>> active_;
  std::thread thread_;
};

// Reads an API key: `configured` if non-empty, else the environment variable `env_name`
// (e.g. "OPENAI_API_KEY"), else "".
std::string api_key(const std::string& configured, const char* env_name);

}  // namespace atende::net
