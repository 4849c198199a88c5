// Reading the JSON bodies of the call-control routes into a sessions::OriginateRequest.
// Everything here sees hostile bytes: sizes, depth, types and characters are bounded and
// every refusal is a 4xx message that names the field but never echoes a value.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/http_types.h"
#include "sessions/call_control.h"

namespace atende::api {

constexpr size_t kMaxJsonBody = 64 * 1024;
constexpr int kMaxJsonDepth = 8;
constexpr size_t kMaxNameLength = 64;  // flow, persona, trunk
constexpr size_t kMaxVariables = 32;
constexpr size_t kMaxVariableName = 64;
constexpr size_t kMaxVariableValue = 1024;
constexpr int kMaxRingTimeout = 300;
constexpr int kDefaultRingTimeout = 30;

struct BodyError {
  int status = 400;  // 400, 413 or 415
  std::string message;
};

// Content-Type must be application/json (parameters such as charset allowed); the body a
// JSON object of at most kMaxJsonBody bytes and kMaxJsonDepth levels.
std::optional<BodyError> read_json_object(const HttpRequest& request, nlohmann::json& out);

// POST /api/calls: {"to", "flow" | "persona", "trunk"?, "caller_id"?, "variables"?,
// "ring_timeout"?}. `out.to` is normalised (see normalize_destination).
std::optional<BodyError> parse_originate(const nlohmann::json& body,
                                         sessions::OriginateRequest& out);

// POST /api/start_call (seed 002's shape): {"phone_number", "persona", "customer_name"?}
// -> to, persona and variables {customer_name}.
std::optional<BodyError> parse_start_call(const nlohmann::json& body,
                                          sessions::OriginateRequest& out);

// "to=+5511999990000 flow=menu vars=name,order" for the audit log: what was asked, no
// variable values (they may be personal data).
std::string describe(const sessions::OriginateRequest& request);

}  // namespace atende::api
