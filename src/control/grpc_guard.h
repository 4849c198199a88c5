// The REST API's limits (api/api_guard.h) for gRPC callers: a request rate per token (its
// rate_per_minute and burst; every RPC, a Call stream counting once) and a budget of failed
// authentications per client address (20 a minute), so a token cannot be guessed at speed
// through this port either. Any thread (one mutex; nothing slow under it).
#pragma once
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_auth.h"
#include "api/rate_limiter.h"

namespace atende::control {

class GrpcGuard {
 public:
  static constexpr int kFailedAuthPerMinute = 20;

  enum class Verdict { kOk, kUnauthenticated, kTooManyFailures, kOverRate };
  struct Result {
    Verdict verdict = Verdict::kUnauthenticated;
    const api::ApiAuth::Token* token = nullptr;
    int retry_after = 0;  // seconds, for the refusals by rate
  };

  explicit GrpcGuard(const api::ApiAuth& auth);
  // `authorization`: the metadata value (nullptr when absent). `peer`: gRPC's peer string
  // ("ipv4:10.0.0.7:51234"); only its address counts.
  Result check(const std::string* authorization, std::string_view peer, MonoTime now);

  // "ipv4:10.0.0.7:51234" -> "10.0.0.7", "ipv6:[::1]:5" -> "::1"; anything else as it is.
  static std::string address_of(std::string_view peer);

 private:
  const api::ApiAuth& auth_;
  std::mutex mu_;
  std::vector<api::TokenBucket> per_token_;  // parallel to auth_.tokens()
  api::KeyedRateLimiter failed_auth_;
};

}  // namespace atende::control
