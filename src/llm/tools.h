// Tools the agent offers the model: the built-in call controls (end_call,
// transfer_to_human, send_dtmf) and flow-defined HTTP tools (POST the arguments as JSON to
// a configured URL; the answer goes back to the model as the tool result).
//
//   request.tools = builtin_tools();
//   request.tools.push_back(weather.spec);            // an HttpTool from the flow
//   on_tool_call: if (c.name == kSendDtmf) leg.send(dtmf_digits(c).value_or(""));
//                 else runner.run(weather, c, [&](ToolResult r) {
//                   conv.add(Message::tool(c.id, r.content)); });
#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llm/chat_types.h"
#include "net/http_client.h"

namespace atende::llm {

inline constexpr std::string_view kEndCall = "end_call";
inline constexpr std::string_view kTransferToHuman = "transfer_to_human";
inline constexpr std::string_view kSendDtmf = "send_dtmf";

// {"reason"?: string}: say goodbye first; the agent hangs up after the answer is played.
ToolSpec end_call_tool();
// {"reason": string, "department"?: string}
ToolSpec transfer_to_human_tool();
// {"digits": string of 0-9 * # A-D, 1..32}
ToolSpec send_dtmf_tool();
std::vector<ToolSpec> builtin_tools();
bool is_builtin_tool(std::string_view name);

// The digits of a send_dtmf call, or nullopt if missing or not 1..32 of [0-9*#A-D].
std::optional<std::string> dtmf_digits(const ToolCall& call);
// A string argument (e.g. "reason", "department"), "" if absent or not a string; bounded.
std::string string_argument(const ToolCall& call, std::string_view name, size_t max_bytes = 500);

struct HttpTool {
  ToolSpec spec;  // what the model sees
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Authorization
  std::chrono::milliseconds timeout{3000};
  size_t max_response_bytes = 8 * 1024;  // more is cut (the model's context is precious)
};

struct ToolResult {
  bool ok = false;
  std::string content;  // the tool message for the model: the body, or {"error": ...}
  int http_status = 0;
  double seconds = 0;
};

class HttpToolRunner {
 public:
  explicit HttpToolRunner(net::HttpClient& http) : http_(http) {}
  // POSTs the call's arguments (which must be a JSON object) to tool.url. `done` runs once,
  // on the HTTP thread (or inline, for arguments that are not a JSON object). Never
  // retried: a tool may have side effects. A 2xx JSON body is the result; a timeout, a
  // non-2xx status, a body that is not JSON or is over max_response_bytes give
  // {"error": "..."} (ok = false), so the model can tell the caller instead of hanging.
  void run(const HttpTool& tool, const ToolCall& call, std::function<void(ToolResult)> done);

 private:
  net::HttpClient& http_;
};

}  // namespace atende::llm
