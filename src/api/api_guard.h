// The middleware that makes the REST API's write side safe: Bearer-token authentication,
// a request rate per token, a cap on failed authentications per client address, and an
// audit row for every write request with its outcome.
//
//   needs a token:  POST/PUT/DELETE/... under /api; GET /api/audit; every GET under /api
//                   (but /api/openapi.json) when ApiAuth::read_requires_token() (the
//                   default once api_tokens are configured)
//   order:          address over its failed-auth budget -> 429
//                   no or wrong token                   -> 401 (one message for both)
//                   token over its rate (writes only)   -> 429 with Retry-After
//                   otherwise the route runs with request.principal = the token's name
//
// Thread-safe (one mutex around the buckets, never held while the route runs).
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "api/api_auth.h"
#include "api/http_server.h"
#include "api/rate_limiter.h"
#include "core/clock.h"
#include "store/call_store.h"

namespace atende::api {

struct ApiGuardOptions {
  int failed_auth_per_minute = 20;              // per client address; also its burst
  std::function<MonoTime()> now;                // rate limiting; null: the steady clock
  std::function<store::WallTime()> wall_now{};  // audit timestamps; null: the system clock
};

class ApiGuard {
 public:
  // `store` may be null (no audit log).
  ApiGuard(ApiAuth auth, store::CallStore* store, ApiGuardOptions options = {});

  // The Middleware: install with server.use([g](auto& r, auto& next) { return g->handle(r, next);
  // }).
  HttpResponse handle(HttpRequest& request, const Next& next);

  const ApiAuth& auth() const { return auth_; }

  static bool is_write(std::string_view method);  // anything but GET and HEAD
  static bool is_api(std::string_view path);      // "/api" and below

 private:
  bool needs_token(const HttpRequest& request) const;
  static bool checks_own_token(std::string_view path);
  HttpResponse watch_own_check(HttpRequest& request, const Next& next);
  HttpResponse refuse(int status, std::string_view message, int retry_after = 0);
  void audit(const HttpRequest& request, const std::string& token_name, int status,
             std::string detail);

  ApiAuth auth_;
  store::CallStore* store_;
  ApiGuardOptions options_;
  std::mutex mutex_;
  KeyedRateLimiter failed_auth_;
  std::vector<TokenBucket> token_buckets_;  // parallel to auth_.tokens()
};

}  // namespace atende::api
