#include "llm/chat_stream.h"

#include <nlohmann/json.hpp>

namespace atende::llm {
namespace {

using nlohmann::json;

// A string member, or "" if absent/null/not a string.
std::string_view str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get_ref<const std::string&>();
}

long number(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return 0;
  return it->get<long>();
}

}  // namespace

ChatStreamDecoder::ChatStreamDecoder(Handlers handlers, ChatStreamLimits limits)
    : handlers_(std::move(handlers)), limits_(limits) {}

ChatStreamDecoder::Status ChatStreamDecoder::fail(std::string message) {
  error_ = std::move(message);
  finished_ = true;
  return Status::Error;
}

bool ChatStreamDecoder::deliver_tool_calls() {
  if (delivered_) return true;
  delivered_ = true;
  for (size_t i = 0; i < calls_.size(); ++i) {
    if (calls_[i].name.empty()) return false;
    // The result must name the call; a server that sent no id gets a stable one.
    if (calls_[i].id.empty()) calls_[i].id = "call_" + std::to_string(i);
  }
  if (!handlers_.on_tool_call) return true;
  for (const auto& c : calls_) handlers_.on_tool_call(c);
  return true;
}

ChatStreamDecoder::Status ChatStreamDecoder::on_data(std::string_view data) {
  if (finished_) return error_.empty() ? Status::Done : Status::Error;
  if (data == "[DONE]") {
    if (!deliver_tool_calls()) return fail("tool call without a name");
    finished_ = true;
    return Status::Done;
  }
  const json chunk = json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!chunk.is_object()) return fail("malformed stream chunk");
  // Providers report failures mid-stream as {"error": {"message": ...}}.
  if (auto err = chunk.find("error"); err != chunk.end() && !err->is_null()) {
    std::string message = err->is_object() ? std::string(str(*err, "message")) : "";
    if (message.empty() && err->is_string()) message = err->get<std::string>();
    return fail("provider error: " + (message.empty() ? std::string("unspecified") : message));
  }
  if (auto u = chunk.find("usage"); u != chunk.end() && u->is_object()) {
    usage_ = ChatUsage{number(*u, "prompt_tokens"), number(*u, "completion_tokens"),
                       number(*u, "total_tokens")};
  }
  auto choices = chunk.find("choices");
  if (choices == chunk.end() || !choices->is_array() || choices->empty()) {
    return Status::Continue;  // the usage chunk has "choices": []
  }
  const json& choice = (*choices)[0];
  if (!choice.is_object()) return fail("malformed choice");
  if (auto delta = choice.find("delta"); delta != choice.end() && delta->is_object()) {
    const std::string_view content = str(*delta, "content");
    if (!content.empty()) {
      if (text_.size() + content.size() > limits_.max_text_bytes) return fail("answer too long");
      text_.append(content);
      if (handlers_.on_text) handlers_.on_text(content);
    }
    if (auto calls = delta->find("tool_calls"); calls != delta->end() && calls->is_array()) {
      for (const json& c : *calls) {
        if (!c.is_object()) return fail("malformed tool call");
        // "index" is required by OpenAI; some servers omit it for a single call.
        size_t index = calls_.empty() ? 0 : calls_.size() - 1;
        if (auto it = c.find("index"); it != c.end()) {
          if (!it->is_number_unsigned()) return fail("bad tool call index");
          index = it->get<size_t>();
        }
        if (index >= limits_.max_tool_calls) return fail("too many tool calls");
        if (index > calls_.size()) return fail("tool call index out of order");
        if (index == calls_.size()) calls_.emplace_back();
        ToolCall& call = calls_[index];
        if (auto id = str(c, "id"); !id.empty()) call.id = id;
        if (auto fn = c.find("function"); fn != c.end() && fn->is_object()) {
          // Names arrive whole in the first fragment; some servers repeat them, so the
          // name is set, not appended.
          if (auto name = str(*fn, "name"); !name.empty()) call.name = name;
          const std::string_view args = str(*fn, "arguments");
          if (call.arguments.size() + args.size() > limits_.max_argument_bytes) {
            return fail("tool call arguments too long");
          }
          call.arguments.append(args);
        }
      }
    }
  }
  if (auto reason = str(choice, "finish_reason"); !reason.empty() && finish_reason_.empty()) {
    finish_reason_ = reason;
    if (!deliver_tool_calls()) return fail("tool call without a name");
  }
  return Status::Continue;
}

ChatStreamDecoder::Status ChatStreamDecoder::on_end() {
  if (finished_) return error_.empty() ? Status::Done : Status::Error;
  if (finish_reason_.empty()) return fail("stream ended early");
  if (!deliver_tool_calls()) return fail("tool call without a name");
  finished_ = true;
  return Status::Done;
}

}  // namespace atende::llm
