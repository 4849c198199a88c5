// The OpenAI chat-completions vocabulary: messages, tool specs, tool calls, requests, and
// the JSON a request is sent as. Plain data; the client and the conversation use it.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atende::llm {

enum class Role { System, User, Assistant, Tool };
std::string_view role_name(Role role);

// A function call the model asked for. `arguments` is the JSON text exactly as the model
// produced it (it may be invalid JSON: check with parse_arguments()).
struct ToolCall {
  std::string id;    // "call_abc"; the tool result answers this id
  std::string name;  // function name
  std::string arguments;
  bool operator==(const ToolCall&) const = default;
};

// The arguments as a JSON object, or nullopt if they are not one. Empty text counts as {}.
std::optional<nlohmann::json> parse_arguments(const ToolCall& call);

struct Message {
  Role role = Role::User;
  std::string content;
  std::vector<ToolCall> tool_calls;  // assistant messages that called tools
  std::string tool_call_id;          // tool messages: the call this answers
  bool operator==(const Message&) const = default;

  static Message system(std::string text) { return {Role::System, std::move(text), {}, {}}; }
  static Message user(std::string text) { return {Role::User, std::move(text), {}, {}}; }
  static Message assistant(std::string text, std::vector<ToolCall> calls = {}) {
    return {Role::Assistant, std::move(text), std::move(calls), {}};
  }
  static Message tool(std::string call_id, std::string result) {
    return {Role::Tool, std::move(result), {}, std::move(call_id)};
  }
};

// A function the model may call; `parameters` is a JSON Schema object.
struct ToolSpec {
  std::string name;  // ^[A-Za-z0-9_-]{1,64}$ (the OpenAI limit)
  std::string description;
  nlohmann::json parameters = nlohmann::json::object();
};

// Empty if `spec` is acceptable to OpenAI-compatible servers, else what is wrong.
std::string validate_tool_spec(const ToolSpec& spec);

struct ChatRequest {
  std::string model;  // empty: the client's configured model
  std::vector<Message> messages;
  std::vector<ToolSpec> tools;
  std::optional<double> temperature;
  std::optional<int> max_tokens;
  // Ask for a final usage chunk (`stream_options.include_usage`). Some older self-hosted
  // servers reject unknown fields: turn off for those.
  bool include_usage = true;
};

nlohmann::json to_json(const Message& message);
nlohmann::json to_json(const ToolSpec& spec);
// The streaming request body: {"model", "messages", "stream": true, ...}.
std::string request_body(const ChatRequest& request);

}  // namespace atende::llm
