#include "api/api_guard.h"

#include <spdlog/spdlog.h>

namespace atende::api {

namespace {

constexpr size_t kMaxAuditPath = 256;
constexpr size_t kMaxAuditMethod = 16;
constexpr size_t kMaxAuditDetail = 512;

// The same words for a missing and a wrong token: a client learns nothing from the reply.
constexpr const char* kUnauthorized = "missing or invalid API token";

// Audit columns hold only printable ASCII, bounded: they came from the network.
std::string printable(std::string_view s, size_t max) {
  std::string out;
  out.reserve(std::min(s.size(), max));
  for (const char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f) ? '?' : c;
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace

ApiGuard::ApiGuard(ApiAuth auth, store::CallStore* store, ApiGuardOptions options)
    : auth_(std::move(auth)),
      store_(store),
      options_(std::move(options)),
      failed_auth_(options_.failed_auth_per_minute, options_.failed_auth_per_minute) {
  if (!options_.now) options_.now = [] { return MonoClock::now(); };
  if (!options_.wall_now) options_.wall_now = [] { return std::chrono::system_clock::now(); };
  const MonoTime now = options_.now();
  for (const auto& t : auth_.tokens()) token_buckets_.emplace_back(t.rate_per_minute, t.burst, now);
}

bool ApiGuard::is_write(std::string_view method) { return method != "GET" && method != "HEAD"; }

bool ApiGuard::is_api(std::string_view path) {
  return path == "/api" || path.substr(0, 5) == "/api/";
}

bool ApiGuard::needs_token(const HttpRequest& r) const {
  if (!is_api(r.path)) return false;
  if (is_write(r.method)) return true;
  // The document says how to authenticate, so it stays open.
  if (r.path == "/api/openapi.json") return false;
  if (auth_.read_requires_token()) return true;
  // A recording is personal data: with tokens configured it needs one even where reads are
  // opened (api_read_requires_token: false).
  if (!auth_.tokens().empty() && r.path.size() > 10 &&
      r.path.compare(r.path.size() - 10, 10, "/recording") == 0) {
    return true;
  }
  return r.path == "/api/audit" || r.path.rfind("/api/audit/", 0) == 0;
}

HttpResponse ApiGuard::refuse(int status, std::string_view message, int retry_after) {
  HttpResponse r = HttpResponse::error(status, message);
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  if (retry_after > 0) r.headers.emplace_back("Retry-After", std::to_string(retry_after));
  return r;
}

void ApiGuard::audit(const HttpRequest& r, const std::string& token_name, int status,
                     std::string detail) {
  if (!store_ || !is_write(r.method)) return;  // reads are not audited
  store_->audit({.at = options_.wall_now(),
                 .token_name = token_name,
                 .source = printable(r.remote_address, 64),
                 .method = printable(r.method, kMaxAuditMethod),
                 .path = printable(r.path, kMaxAuditPath),
                 .status = status,
                 .detail = printable(detail, kMaxAuditDetail)});
}

bool ApiGuard::checks_own_token(std::string_view path) { return path == "/asp"; }

HttpResponse ApiGuard::watch_own_check(HttpRequest& request, const Next& next) {
  const std::string source = printable(request.remote_address, 64);
  int retry_after = 0;
  {
    std::lock_guard lock(mutex_);
    if (!failed_auth_.available(source, options_.now(), retry_after)) {
      spdlog::warn(
          "api: {} {} from {}: 429 (refused: too many failed authentications from this "
          "address)",
          printable(request.method, kMaxAuditMethod), printable(request.path, kMaxAuditPath),
          source);
      return refuse(429, "too many failed authentication attempts", retry_after);
    }
  }
  HttpResponse response = next(request);
  if (response.status == 401) {
    std::lock_guard lock(mutex_);
    failed_auth_.take(source, options_.now(), retry_after);
  }
  return response;
}

HttpResponse ApiGuard::handle(HttpRequest& request, const Next& next) {
  request.principal.clear();  // only this guard may set it
  if (checks_own_token(request.path)) return watch_own_check(request, next);
  if (!needs_token(request)) return next(request);

  const std::string source = printable(request.remote_address, 64);
  const std::string path = printable(request.path, kMaxAuditPath);
  const ApiAuth::Token* token = nullptr;
  int retry_after = 0;
  HttpResponse refusal;
  std::string why;
  {
    std::lock_guard lock(mutex_);
    const MonoTime now = options_.now();
    if (!failed_auth_.available(source, now, retry_after)) {
      refusal = refuse(429, "too many failed authentication attempts", retry_after);
      why = "refused: too many failed authentications from this address";
    } else if (token = auth_.authenticate(request.header("Authorization")); !token) {
      failed_auth_.take(source, now, retry_after);
      refusal = refuse(401, kUnauthorized);
      why = request.header("Authorization") ? "refused: invalid token" : "refused: no token";
    } else if (is_write(request.method) &&
               !token_buckets_[static_cast<size_t>(token - auth_.tokens().data())].take(
                   now, retry_after)) {
      // Only writes spend the token's rate (it bounds dialling and hang-ups); a console
      // paging through calls would otherwise run out in seconds. Reads still need the
      // token, and failed attempts still count against the client's address.
      refusal = refuse(429, "rate limit exceeded for this token", retry_after);
      why = "refused: over the token's rate";
    }
  }
  if (!why.empty()) {
    const std::string name = refusal.status == 429 && token ? token->name : "";
    spdlog::warn("api: {} {} from {}{}: {} ({})", printable(request.method, kMaxAuditMethod), path,
                 source, name.empty() ? "" : " token " + name, refusal.status, why);
    audit(request, name, refusal.status, why);
    return refusal;
  }

  request.principal = token->name;
  HttpResponse response = next(request);
  if (is_write(request.method)) {
    spdlog::info("api: {} {} by token {} from {}: {} {}", request.method, path, token->name, source,
                 response.status, printable(response.audit_detail, kMaxAuditDetail));
  }
  audit(request, token->name, response.status, response.audit_detail);
  return response;
}

}  // namespace atende::api
