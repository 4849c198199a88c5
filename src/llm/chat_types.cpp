#include "llm/chat_types.h"

#include <cctype>

namespace atende::llm {

std::string_view role_name(Role role) {
  switch (role) {
    case Role::System:
      return "system";
    case Role::User:
      return "user";
    case Role::Assistant:
      return "assistant";
    case Role::Tool:
      return "tool";
  }
  return "user";
}

std::optional<nlohmann::json> parse_arguments(const ToolCall& call) {
  if (call.arguments.find_first_not_of(" \t\r\n") == std::string::npos) {
    return nlohmann::json::object();
  }
  nlohmann::json j = nlohmann::json::parse(call.arguments, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;  // also catches the "discarded" parse error value
  return j;
}

std::string validate_tool_spec(const ToolSpec& spec) {
  if (spec.name.empty() || spec.name.size() > 64) return "tool name must be 1-64 characters";
  for (unsigned char c : spec.name) {
    if (!(std::isalnum(c) || c == '_' || c == '-')) {
      return "tool name '" + spec.name + "' may contain only letters, digits, '_' and '-'";
    }
  }
  if (!spec.parameters.is_object()) return "tool '" + spec.name + "': parameters must be an object";
  // Not value("type", ""): it throws when "type" is there but not a string.
  const auto type = spec.parameters.find("type");
  if (type == spec.parameters.end() || !type->is_string() || *type != "object") {
    return "tool '" + spec.name + "': parameters must be a JSON Schema with \"type\": \"object\"";
  }
  return {};
}

nlohmann::json to_json(const Message& message) {
  nlohmann::json j = {{"role", role_name(message.role)}};
  if (message.role == Role::Assistant && !message.tool_calls.empty()) {
    // OpenAI wants content null (not "") when the turn is only tool calls.
    j["content"] =
        message.content.empty() ? nlohmann::json(nullptr) : nlohmann::json(message.content);
    nlohmann::json calls = nlohmann::json::array();
    for (const auto& c : message.tool_calls) {
      calls.push_back({{"id", c.id},
                       {"type", "function"},
                       {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    }
    j["tool_calls"] = std::move(calls);
  } else {
    j["content"] = message.content;
  }
  if (message.role == Role::Tool) j["tool_call_id"] = message.tool_call_id;
  return j;
}

nlohmann::json to_json(const ToolSpec& spec) {
  return {
      {"type", "function"},
      {"function",
       {{"name", spec.name}, {"description", spec.description}, {"parameters", spec.parameters}}}};
}

std::string request_body(const ChatRequest& request) {
  nlohmann::json j = {{"model", request.model}, {"stream", true}};
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : request.messages) messages.push_back(to_json(m));
  j["messages"] = std::move(messages);
  if (!request.tools.empty()) {
    nlohmann::json tools = nlohmann::json::array();
    for (const auto& t : request.tools) tools.push_back(to_json(t));
    j["tools"] = std::move(tools);
  }
  if (request.temperature) j["temperature"] = *request.temperature;
  if (request.max_tokens) j["max_tokens"] = *request.max_tokens;
  if (request.include_usage) j["stream_options"] = {{"include_usage", true}};
  // Invalid UTF-8 (a caller's transcript should not contain any, but it is untrusted) is
  // replaced rather than throwing.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace atende::llm
