// OpenAI-compatible chat completions, streamed: POST {base_url}/v1/chat/completions with
// "stream": true, decoded as it arrives (text deltas, tool calls, finish reason, usage).
// Works with api.openai.com and self-hosted servers that speak the same API (vLLM,
// llama.cpp server, Ollama, LocalAI...). See docs/llm.md for the configuration.
//
// Threads: complete() returns at once; every callback runs on the HttpClient's thread and
// must be quick (post to your own thread). `on_done` runs exactly once per complete().
// Nothing here ever blocks the caller, so the media thread may call complete() and cancel().
//
//   ChatClient chat(http, {.base_url = "http://127.0.0.1:8000", .model = "llama3"});
//   auto call = chat.complete(request, {
//       .on_text = [&](std::string_view d) { splitter.push(d, speak); },
//       .on_tool_call = [&](const ToolCall& c) { run_tool(c); },
//       .on_done = [&](const ChatResult& r) { if (!r.ok()) play_fallback(); }});
//   ...  call->cancel();   // barge-in
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llm/chat_stream.h"
#include "llm/chat_types.h"
#include "net/http_client.h"

namespace atende::llm {

struct ChatClientOptions {
  // Server root, e.g. "https://api.openai.com" or "http://127.0.0.1:8000". A trailing "/v1"
  // (the OpenAI SDKs' convention) is accepted too.
  std::string base_url = "https://api.openai.com";
  std::string model = "gpt-4o-mini";  // used when ChatRequest::model is empty
  std::string api_key;                // literal key; empty: read api_key_env
  std::string api_key_env = "OPENAI_API_KEY";
  // Extra request headers (e.g. {"OpenAI-Organization", "org-..."}).
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds connect_timeout{3000};
  // No byte for this long — before the first token (the model never answers) or
  // mid-stream (it stalls) — fails the completion with ChatError::Timeout.
  std::chrono::milliseconds stall_timeout{5000};
  std::chrono::milliseconds total_timeout{60000};
  // Retries on connect failure, 5xx/429 or a timeout, only before any byte of the answer
  // arrived (never replays a stream the caller has started to speak).
  int max_retries = 1;
  ChatStreamLimits limits;
};

enum class ChatError {
  None,
  Connect,    // could not connect / resolve
  Timeout,    // connect, stall or total timeout
  Http,       // non-2xx status (see http_status, message)
  Provider,   // an error object inside the stream
  Malformed,  // not a chat-completion stream, or over the limits
  Cancelled,  // cancel() or client shutdown
  Other,      // invalid request, queue full, transport failure
};
const char* to_string(ChatError error);

struct ChatResult {
  ChatError error = ChatError::None;
  std::string message;  // human-readable error, "" on success
  int http_status = 0;
  std::string text;  // all content received (also on error: what arrived before it)
  std::vector<ToolCall> tool_calls;
  std::string finish_reason;  // "stop", "length", "tool_calls", ...
  std::optional<ChatUsage> usage;
  double first_token_seconds = -1;  // complete() → first content or tool-call delta
  double seconds = 0;               // complete() → end
  int attempts = 0;

  bool ok() const { return error == ChatError::None; }
};

struct ChatHandlers {
  std::function<void(std::string_view delta)> on_text;
  std::function<void(const ToolCall& call)> on_tool_call;
  std::function<void(const ChatResult& result)> on_done;
};

// One completion in flight.
class ChatCall {
 public:
  virtual ~ChatCall() = default;
  // Thread-safe, never blocks. No on_text/on_tool_call starts after it returns (one already
  // running may finish); on_done follows with ChatError::Cancelled unless the completion
  // had already ended.
  virtual void cancel() = 0;
};
using ChatCallPtr = std::shared_ptr<ChatCall>;

class ChatClient {
 public:
  // `http` must outlive every completion (its destructor ends them with Cancelled).
  ChatClient(net::HttpClient& http, ChatClientOptions options);

  ChatCallPtr complete(const ChatRequest& request, ChatHandlers handlers);

  const ChatClientOptions& options() const { return options_; }
  // "{base_url}/v1/chat/completions", tolerating a trailing "/" or "/v1" in base_url.
  std::string url() const;

 private:
  net::HttpClient& http_;
  ChatClientOptions options_;
  std::string api_key_;  // resolved once, at construction
};

// "{base}/v1/{path}" with base's trailing "/" and "/v1" tolerated.
std::string openai_url(std::string_view base_url, std::string_view path);

// The "error.message" of an OpenAI-style JSON error body, else the body's start (bounded,
// printable), for logs and ChatResult::message.
std::string error_text(std::string_view body, size_t max_bytes = 300);

}  // namespace atende::llm
