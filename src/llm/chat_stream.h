// Decodes a streamed chat completion: the JSON of each SSE `data:` event
// (`chat.completion.chunk`), accumulating text, tool calls (whose id, name and argument
// fragments arrive spread over many chunks, keyed by `index`), finish_reason and usage.
// No I/O: the client feeds it, tests feed it recorded streams.
//
// Untrusted input: unparseable chunks, wrong types and out-of-range indexes are errors,
// not exceptions; text, tool-call count and argument sizes are bounded.
#pragma once
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/chat_types.h"

namespace atende::llm {

struct ChatUsage {
  long prompt_tokens = 0;
  long completion_tokens = 0;
  long total_tokens = 0;
};

struct ChatStreamLimits {
  size_t max_text_bytes = 64 * 1024;
  size_t max_tool_calls = 16;
  size_t max_argument_bytes = 64 * 1024;
};

class ChatStreamDecoder {
 public:
  enum class Status { Continue, Done, Error };
  struct Handlers {
    std::function<void(std::string_view delta)> on_text;
    // Complete calls, in index order, once finish_reason (or the end) arrives.
    std::function<void(const ToolCall& call)> on_tool_call;
  };

  explicit ChatStreamDecoder(Handlers handlers, ChatStreamLimits limits = {});

  // One SSE event's data. Done on `[DONE]`; Error (see error()) on a provider error object
  // or a malformed/oversized chunk. After Done or Error further input is ignored.
  Status on_data(std::string_view data);
  // The stream ended (connection closed). Delivers pending tool calls. Done if a
  // finish_reason or [DONE] was seen, else Error ("stream ended early").
  Status on_end();

  const std::string& text() const { return text_; }
  const std::vector<ToolCall>& tool_calls() const { return calls_; }
  const std::string& finish_reason() const { return finish_reason_; }
  const std::optional<ChatUsage>& usage() const { return usage_; }
  const std::string& error() const { return error_; }
  bool saw_content() const { return !text_.empty() || !calls_.empty(); }

 private:
  Status fail(std::string message);
  // False if a call has no name (nothing is delivered then).
  bool deliver_tool_calls();

  Handlers handlers_;
  ChatStreamLimits limits_;
  std::string text_;
  std::vector<ToolCall> calls_;
  std::string finish_reason_;
  std::optional<ChatUsage> usage_;
  std::string error_;
  bool finished_ = false;  // [DONE] or error: ignore the rest
  bool delivered_ = false;
};

}  // namespace atende::llm
