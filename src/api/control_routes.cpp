#include "api/control_routes.h"

#include <spdlog/spdlog.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "api/api_guard.h"
#include "api/call_request.h"
#include "api/query.h"

namespace atende::api {

namespace {

constexpr size_t kMaxCallIdLength = 256;
constexpr int kDefaultAuditLimit = 50;
constexpr int kMaxAuditLimit = 1000;
constexpr int kMaxAuditOffset = 1'000'000'000;

HttpResponse with_detail(HttpResponse r, std::string detail) {
  r.audit_detail = std::move(detail);
  return r;
}

HttpResponse control_error(const sessions::ControlError& e, std::string detail) {
  return with_detail(HttpResponse::error(http_status(e.code), e.message),
                     std::move(detail) + " -> " + e.message);
}

// Shared by both originate routes once the body is read: allow-list, then CallControl.
HttpResponse originate(const ApiGuard& guard, sessions::CallControl& control,
                       const HttpRequest& req, sessions::OriginateRequest call, bool with_status) {
  const ApiAuth::Token* token = guard.auth().find_name(req.principal);
  if (!token) return HttpResponse::error(401, "missing or invalid API token");  // no guard ran
  const std::string detail = describe(call);
  if (!token->allow.allows(call.to)) {
    const std::string message = "number '" + call.to + "' is not in this token's allow-list";
    return with_detail(HttpResponse::error(403, message), detail + " -> not allowed");
  }
  call.requested_by = token->name;
  auto result = control.originate(std::move(call));
  if (!result) return control_error(result.error(), detail);
  nlohmann::json body{{"id", result.value()}};
  if (with_status) body["status"] = "dialing";
  HttpResponse r = HttpResponse::json(202, body);
  r.headers.emplace_back("Location", "/api/calls/" + result.value());
  return with_detail(std::move(r), detail + " -> id=" + result.value());
}

template <typename Parse>
HttpResponse originate_route(const ApiGuard& guard, sessions::CallControl& control,
                             const HttpRequest& req, Parse parse, bool with_status) {
  nlohmann::json body;
  if (auto e = read_json_object(req, body)) {
    return with_detail(HttpResponse::error(e->status, e->message), e->message);
  }
  sessions::OriginateRequest call;
  if (auto e = parse(body, call)) {
    return with_detail(HttpResponse::error(e->status, e->message), e->message);
  }
  return originate(guard, control, req, std::move(call), with_status);
}

HttpResponse hangup(sessions::CallControl& control, const HttpRequest& req) {
  const std::string& id = req.path_params.at("id");
  if (id.size() > kMaxCallIdLength) {
    return with_detail(HttpResponse::error(404, "call not found"), "id too long");
  }
  auto result = control.hangup(id);
  if (!result) return control_error(result.error(), "id=" + id);
  return with_detail(HttpResponse::json(200, {{"id", id}, {"status", "hanging_up"}}), "id=" + id);
}

// POST /api/calls/{id}/bridge {"with": "<other call id>"}: both answered; the other call
// joins this one's session and their flows leave.
HttpResponse bridge(sessions::CallControl& control, const HttpRequest& req) {
  const std::string& id = req.path_params.at("id");
  if (id.size() > kMaxCallIdLength) {
    return with_detail(HttpResponse::error(404, "call not found"), "id too long");
  }
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return with_detail(HttpResponse::error(400, "bad JSON: expected {\"with\": \"<call id>\"}"),
                       "id=" + id);
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "with") return HttpResponse::error(400, "unknown field '" + key.substr(0, 64) + "'");
  }
  if (!body.contains("with") || !body["with"].is_string() ||
      body["with"].get_ref<const std::string&>().empty() ||
      body["with"].get_ref<const std::string&>().size() > kMaxCallIdLength) {
    return HttpResponse::error(400, "'with' must be the other call's id (a string)");
  }
  const std::string other = body["with"].get<std::string>();
  auto result = control.bridge(id, other);
  const std::string detail = "id=" + id + " with=" + other;
  if (!result) return control_error(result.error(), detail);
  return with_detail(HttpResponse::json(200, {{"id", id}, {"with", other}, {"status", "bridging"}}),
                     detail);
}

// POST /api/calls/{id}/transfer {"to": "<number or sip: URI>"}: a blind transfer (SIP
// REFER) of the call's first leg. `to` is dialled, so the token's allow-list applies.
HttpResponse transfer(const ApiGuard& guard, sessions::CallControl& control,
                      const HttpRequest& req) {
  const std::string& id = req.path_params.at("id");
  if (id.size() > kMaxCallIdLength) {
    return with_detail(HttpResponse::error(404, "call not found"), "id too long");
  }
  const ApiAuth::Token* token = guard.auth().find_name(req.principal);
  if (!token) return HttpResponse::error(401, "missing or invalid API token");
  nlohmann::json body;
  if (auto e = read_json_object(req, body)) {
    return with_detail(HttpResponse::error(e->status, e->message), "id=" + id + " " + e->message);
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "to") return HttpResponse::error(400, "unknown field '" + key.substr(0, 64) + "'");
  }
  if (!body.contains("to") || !body["to"].is_string()) {
    return HttpResponse::error(400, "'to' must be a number or sip: URI (a string)");
  }
  std::string error;
  const auto to = normalize_destination(body["to"].get<std::string>(), error);
  if (!to) return with_detail(HttpResponse::error(400, "'to': " + error), "id=" + id);
  const std::string detail = "id=" + id + " to=" + *to;
  if (!token->allow.allows(*to)) {
    return with_detail(
        HttpResponse::error(403, "number '" + *to + "' is not in this token's allow-list"),
        detail + " -> not allowed");
  }
  auto result = control.transfer(id, *to);
  if (!result) return control_error(result.error(), detail);
  return with_detail(HttpResponse::json(200, {{"id", id}, {"to", *to}, {"status", "transferring"}}),
                     detail);
}

HttpResponse list_audit(store::CallStore& store, const HttpRequest& req) {
  std::string error;
  const auto limit = int_param(req.query, "limit", kDefaultAuditLimit, 1, kMaxAuditLimit, error);
  if (!limit) return HttpResponse::error(400, error);
  const auto offset = int_param(req.query, "offset", 0, 0, kMaxAuditOffset, error);
  if (!offset) return HttpResponse::error(400, error);
  auto rows = nlohmann::json::array();
  // Every request answered before this one is in the log (its row is queued before its
  // reply is sent; the store group-commits every 10 ms under load): wait for that commit.
  store.flush();
  for (const auto& e : store.list_audit(*limit, *offset)) rows.push_back(store::to_json(e));
  return HttpResponse::json(200, rows);
}

}  // namespace

int http_status(sessions::ControlErrc code) {
  switch (code) {
    case sessions::ControlErrc::kInvalid:
      return 400;
    case sessions::ControlErrc::kNotFound:
      return 404;
    case sessions::ControlErrc::kForbidden:
      return 403;
    case sessions::ControlErrc::kUnavailable:
      return 503;
    case sessions::ControlErrc::kConflict:
      return 409;
  }
  return 500;
}

void install_control_routes(HttpServer& server, ControlContext ctx) {
  if (ctx.auth.tokens().empty()) {
    spdlog::warn("api: no api_tokens configured: every API write will be refused (401)");
  }
  for (const auto& t : ctx.auth.tokens()) {
    spdlog::info("api: token {} ({} per minute, burst {}){}", t.name, t.rate_per_minute, t.burst,
                 t.allow.empty() ? ", may not dial" : "");
  }
  auto guard = std::make_shared<ApiGuard>(
      std::move(ctx.auth), ctx.store,
      ApiGuardOptions{.failed_auth_per_minute = ctx.failed_auth_per_minute,
                      .now = std::move(ctx.now),
                      .wall_now = std::move(ctx.wall_now)});
  server.use([guard](HttpRequest& r, const Next& next) { return guard->handle(r, next); });

  if (sessions::CallControl* control = ctx.control) {
    server.route("POST", "/api/calls", [guard, control](const HttpRequest& r) {
      return originate_route(*guard, *control, r, parse_originate, false);
    });
    server.route("POST", "/api/start_call", [guard, control](const HttpRequest& r) {
      return originate_route(*guard, *control, r, parse_start_call, true);
    });
    server.route("POST", "/api/calls/{id}/hangup",
                 [control](const HttpRequest& r) { return hangup(*control, r); });
    server.route("POST", "/api/calls/{id}/bridge",
                 [control](const HttpRequest& r) { return bridge(*control, r); });
    server.route("POST", "/api/calls/{id}/transfer",
                 [guard, control](const HttpRequest& r) { return transfer(*guard, *control, r); });
  }
  if (store::CallStore* store = ctx.store) {
    server.route("GET", "/api/audit",
                 [store](const HttpRequest& r) { return list_audit(*store, r); });
  }
}

}  // namespace atende::api
