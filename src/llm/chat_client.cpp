#include "llm/chat_client.h"

#include <atomic>
#include <nlohmann/json.hpp>

#include "llm/sse_parser.h"

namespace atende::llm {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One completion: the HTTP transfer's callbacks share it (they run on the HttpClient's
// thread); cancel() may come from any thread and only touches the atomics.
class Call : public ChatCall, public std::enable_shared_from_this<Call> {
 public:
  Call(net::HttpClient& http, ChatHandlers handlers, ChatStreamLimits limits)
      : http_(http),
        handlers_(std::move(handlers)),
        limits_(limits),
        decoder_({[this](std::string_view d) {
                    if (!cancelled_.load() && handlers_.on_text) handlers_.on_text(d);
                  },
                  [this](const ToolCall& c) {
                    if (!cancelled_.load() && handlers_.on_tool_call) handlers_.on_tool_call(c);
                  }},
                 limits) {}

  void cancel() override {
    cancelled_.store(true);
    if (const auto id = id_.load(); id != 0) http_.cancel(id);
  }

  void start(net::HttpRequest request) {
    auto self = shared_from_this();
    const auto id = http_.request(
        std::move(request), [self](std::string_view chunk) { return self->on_data(chunk); },
        [self](net::HttpResult r) { self->on_done(std::move(r)); });
    id_.store(id);
    if (cancelled_.load()) http_.cancel(id);  // cancel() raced with request()
  }

 private:
  enum class Mode { Unknown, Sse, Json };

  bool on_data(std::string_view chunk) {
    if (cancelled_.load()) return false;
    if (mode_ == Mode::Unknown) {
      const size_t first = chunk.find_first_not_of(" \t\r\n");
      if (first == std::string_view::npos) return true;
      // A server that ignores "stream": true answers one JSON completion.
      mode_ = chunk[first] == '{' ? Mode::Json : Mode::Sse;
    }
    if (mode_ == Mode::Json) {
      if (json_.size() + chunk.size() > limits_.max_text_bytes + limits_.max_argument_bytes) {
        stop(ChatError::Malformed, "answer too long");
        return false;
      }
      json_.append(chunk);
      return true;
    }
    sse_.feed(chunk, [this](const SseEvent& e) {
      if (stopped_ || done_) return;
      const auto status = decoder_.on_data(e.data);
      note_first_token();
      if (status == ChatStreamDecoder::Status::Done) done_ = true;
      if (status == ChatStreamDecoder::Status::Error) {
        stop(decoder_.error().starts_with("provider error") ? ChatError::Provider
                                                            : ChatError::Malformed,
             decoder_.error());
      }
    });
    if (sse_.error() != SseError::None && !stopped_) {
      stop(ChatError::Malformed, "event stream line or event over the size limit");
    }
    return !stopped_;
  }

  void note_first_token() {
    if (first_token_ < 0 && decoder_.saw_content()) first_token_ = since(created_);
  }

  void stop(ChatError error, std::string message) {
    stopped_ = true;
    stop_error_ = error;
    stop_message_ = std::move(message);
  }

  // A whole (non-streamed) completion, replayed through the decoder as one chunk.
  void decode_json_body() {
    const nlohmann::json body = nlohmann::json::parse(json_, nullptr, false);
    if (!body.is_object()) return stop(ChatError::Malformed, "response is not JSON");
    if (body.contains("error")) {
      decoder_.on_data(json_);
      return stop(ChatError::Provider, decoder_.error());
    }
    auto choices = body.find("choices");
    if (choices == body.end() || !choices->is_array() || choices->empty() ||
        !(*choices)[0].is_object() || !(*choices)[0].contains("message")) {
      return stop(ChatError::Malformed, "response has no choices[0].message");
    }
    const nlohmann::json& choice = (*choices)[0];
    nlohmann::json delta = choice["message"];
    if (delta.is_object() && delta.contains("tool_calls") && delta["tool_calls"].is_array()) {
      for (size_t i = 0; i < delta["tool_calls"].size(); ++i) {
        if (delta["tool_calls"][i].is_object()) delta["tool_calls"][i]["index"] = i;
      }
    }
    nlohmann::json chunk = {{"choices",
                             {{{"index", 0},
                               {"delta", delta},
                               {"finish_reason", choice.value("finish_reason", "stop")}}}}};
    if (body.contains("usage")) chunk["usage"] = body["usage"];
    const std::string as_chunk =
        chunk.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (decoder_.on_data(as_chunk) == ChatStreamDecoder::Status::Error) {
      return stop(ChatError::Malformed, decoder_.error());
    }
    note_first_token();
    if (decoder_.on_end() == ChatStreamDecoder::Status::Error) {
      stop(ChatError::Malformed, decoder_.error());
    }
  }

  void on_done(net::HttpResult r) {
    ChatResult result;
    result.http_status = r.status;
    result.attempts = r.attempts;
    if (stopped_) {
      result.error = stop_error_;
      result.message = stop_message_;
    } else if (cancelled_.load() || r.error == net::HttpError::cancelled ||
               r.error == net::HttpError::shutdown) {
      result.error = ChatError::Cancelled;
      result.message = "cancelled";
    } else if (done_) {
      // [DONE] arrived: whatever happened to the connection afterwards does not matter.
    } else if (r.error == net::HttpError::none) {
      if (r.status < 200 || r.status >= 300) {
        result.error = ChatError::Http;
        result.message = "HTTP " + std::to_string(r.status) + ": " + error_text(r.body);
      } else if (mode_ == Mode::Json) {
        decode_json_body();
      } else {
        sse_.finish();
        if (decoder_.on_end() == ChatStreamDecoder::Status::Error) {
          stop(ChatError::Malformed, decoder_.error());
        }
      }
      if (stopped_) {
        result.error = stop_error_;
        result.message = stop_message_;
      }
    } else {
      switch (r.error) {
        case net::HttpError::connect:
          result.error = ChatError::Connect;
          break;
        case net::HttpError::timeout:
          result.error = ChatError::Timeout;
          break;
        case net::HttpError::too_large:
          result.error = ChatError::Malformed;
          break;
        default:
          result.error = ChatError::Other;
      }
      result.message = r.describe();
    }
    result.text = decoder_.text();
    result.tool_calls = decoder_.tool_calls();
    result.finish_reason = decoder_.finish_reason();
    result.usage = decoder_.usage();
    result.first_token_seconds = first_token_;
    result.seconds = since(created_);
    if (handlers_.on_done) handlers_.on_done(result);
  }

  net::HttpClient& http_;
  ChatHandlers handlers_;
  ChatStreamLimits limits_;
  std::atomic<bool> cancelled_{false};
  std::atomic<net::HttpRequestId> id_{0};
  const Clock::time_point created_ = Clock::now();
  // Owned by the HTTP thread:
  ChatStreamDecoder decoder_;
  SseParser sse_;
  Mode mode_ = Mode::Unknown;
  std::string json_;
  bool done_ = false;
  bool stopped_ = false;
  ChatError stop_error_ = ChatError::None;
  std::string stop_message_;
  double first_token_ = -1;
};

}  // namespace

const char* to_string(ChatError error) {
  switch (error) {
    case ChatError::None:
      return "none";
    case ChatError::Connect:
      return "connect";
    case ChatError::Timeout:
      return "timeout";
    case ChatError::Http:
      return "http";
    case ChatError::Provider:
      return "provider";
    case ChatError::Malformed:
      return "malformed";
    case ChatError::Cancelled:
      return "cancelled";
    case ChatError::Other:
      return "other";
  }
  return "other";
}

std::string openai_url(std::string_view base_url, std::string_view path) {
  std::string base(base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (!base.ends_with("/v1")) base += "/v1";
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return base + "/" + std::string(path);
}

std::string error_text(std::string_view body, size_t max_bytes) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  std::string text;
  if (j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) {
      text = e["message"].get<std::string>();
    } else if (e.is_string()) {
      text = e.get<std::string>();
    }
  }
  if (text.empty()) text.assign(body.substr(0, max_bytes));
  if (text.size() > max_bytes) text.resize(max_bytes);
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';  // one log line
  }
  return text;
}

ChatClient::ChatClient(net::HttpClient& http, ChatClientOptions options)
    : http_(http), options_(std::move(options)) {
  api_key_ = net::api_key(options_.api_key,
                          options_.api_key_env.empty() ? nullptr : options_.api_key_env.c_str());
}

std::string ChatClient::url() const { return openai_url(options_.base_url, "chat/completions"); }

ChatCallPtr ChatClient::complete(const ChatRequest& request, ChatHandlers handlers) {
  ChatRequest req = request;
  if (req.model.empty()) req.model = options_.model;
  net::HttpRequest http;
  http.method = "POST";
  http.url = url();
  http.headers = {{"Content-Type", "application/json"}, {"Accept", "text/event-stream"}};
  if (!api_key_.empty()) http.headers.emplace_back("Authorization", "Bearer " + api_key_);
  for (const auto& h : options_.headers) http.headers.push_back(h);
  http.body = request_body(req);
  http.connect_timeout = options_.connect_timeout;
  http.idle_timeout = options_.stall_timeout;
  http.total_timeout = options_.total_timeout;
  http.max_retries = options_.max_retries;
  // Every SSE chunk repeats ~200 bytes of envelope per token.
  http.max_response_bytes =
      64 * (options_.limits.max_text_bytes + options_.limits.max_argument_bytes) + (1u << 20);
  auto call = std::make_shared<Call>(http_, std::move(handlers), options_.limits);
  call->start(std::move(http));
  return call;
}

}  // namespace atende::llm
