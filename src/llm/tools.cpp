#include "llm/tools.h"

#include <nlohmann/json.hpp>

namespace atende::llm {

using nlohmann::json;

ToolSpec end_call_tool() {
  return {std::string(kEndCall),
          "End the phone call. Say goodbye in your answer first; the call ends after it is "
          "played.",
          json::parse(R"({"type":"object","properties":{"reason":{"type":"string",
            "description":"Why the call ends, for the call record"}},"required":[]})")};
}

ToolSpec transfer_to_human_tool() {
  return {std::string(kTransferToHuman),
          "Hand the caller over to a human attendant when they ask for one or when you cannot "
          "help.",
          json::parse(R"({"type":"object","properties":{
            "reason":{"type":"string","description":"What the caller needs, for the attendant"},
            "department":{"type":"string","description":"Team to route to, if known"}},
            "required":["reason"]})")};
}

ToolSpec send_dtmf_tool() {
  return {std::string(kSendDtmf),
          "Send touch-tone digits on the call (e.g. to navigate another system's menu).",
          json::parse(R"({"type":"object","properties":{"digits":{"type":"string",
            "pattern":"^[0-9*#A-D]{1,32}$","description":"Digits to send, e.g. \"1\" or \"123#\""}},
            "required":["digits"]})")};
}

std::vector<ToolSpec> builtin_tools() {
  return {end_call_tool(), transfer_to_human_tool(), send_dtmf_tool()};
}

bool is_builtin_tool(std::string_view name) {
  return name == kEndCall || name == kTransferToHuman || name == kSendDtmf;
}

std::optional<std::string> dtmf_digits(const ToolCall& call) {
  const auto args = parse_arguments(call);
  if (!args) return std::nullopt;
  auto it = args->find("digits");
  if (it == args->end() || !it->is_string()) return std::nullopt;
  std::string digits = it->get<std::string>();
  if (digits.empty() || digits.size() > 32) return std::nullopt;
  for (char c : digits) {
    if (!((c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D'))) {
      return std::nullopt;
    }
  }
  return digits;
}

std::string string_argument(const ToolCall& call, std::string_view name, size_t max_bytes) {
  const auto args = parse_arguments(call);
  if (!args) return {};
  auto it = args->find(std::string(name));
  if (it == args->end() || !it->is_string()) return {};
  std::string value = it->get<std::string>();
  if (value.size() > max_bytes) {
    size_t n = max_bytes;
    while (n > 0 && (static_cast<unsigned char>(value[n]) & 0xC0) == 0x80) --n;  // UTF-8
    value.resize(n);
  }
  return value;
}

namespace {

std::string error_json(std::string_view message) {
  return json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

void HttpToolRunner::run(const HttpTool& tool, const ToolCall& call,
                         std::function<void(ToolResult)> done) {
  const auto args = parse_arguments(call);
  if (!args) {
    done({false, error_json("arguments are not a JSON object"), 0, 0});
    return;
  }
  net::HttpRequest req;
  req.method = "POST";
  req.url = tool.url;
  req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  for (const auto& h : tool.headers) req.headers.push_back(h);
  req.body = args->dump(-1, ' ', false, json::error_handler_t::replace);
  req.connect_timeout = std::min(tool.timeout, std::chrono::milliseconds(3000));
  req.total_timeout = tool.timeout;
  req.idle_timeout = tool.timeout;
  // Read a little beyond the limit so we can tell "exactly at the limit" from "cut".
  req.max_response_bytes = tool.max_response_bytes + 1;
  req.max_retries = 0;
  const size_t limit = tool.max_response_bytes;
  http_.request(std::move(req), nullptr, [done = std::move(done), limit](net::HttpResult r) {
    ToolResult result;
    result.http_status = r.status;
    result.seconds = r.seconds;
    if (r.error == net::HttpError::too_large || (r.ok() && r.body.size() > limit)) {
      result.ok = false;
      result.content = error_json("tool answer larger than " + std::to_string(limit) + " bytes");
    } else if (r.ok() && r.body.find_first_not_of(" \t\r\n") == std::string::npos) {
      result.ok = true;
      result.content = "{}";
    } else if (r.ok() && !json::accept(r.body)) {
      // The model reads the result as data: do not pass on HTML error pages and the like.
      result.content = error_json("tool answer is not JSON");
    } else if (r.ok()) {
      result.ok = true;
      result.content = r.body;
    } else {
      result.content = error_json("tool failed: " + r.describe());
    }
    done(std::move(result));
  });
}

}  // namespace atende::llm
