#include "control/grpc_guard.h"

namespace atende::control {

GrpcGuard::GrpcGuard(const api::ApiAuth& auth)
    : auth_(auth), failed_auth_(kFailedAuthPerMinute, kFailedAuthPerMinute) {
  const auto now = MonoClock::now();
  for (const auto& t : auth_.tokens()) per_token_.emplace_back(t.rate_per_minute, t.burst, now);
}

std::string GrpcGuard::address_of(std::string_view peer) {
  for (std::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (peer.substr(0, scheme.size()) != scheme) continue;
    std::string_view rest = peer.substr(scheme.size());
    if (!rest.empty() && rest.front() == '[') {
      const auto close = rest.find(']');
      if (close != std::string_view::npos) return std::string(rest.substr(1, close - 1));
    }
    const auto colon = rest.rfind(':');
    return std::string(colon == std::string_view::npos ? rest : rest.substr(0, colon));
  }
  return std::string(peer.substr(0, 256));
}

GrpcGuard::Result GrpcGuard::check(const std::string* authorization, std::string_view peer,
                                   MonoTime now) {
  Result r;
  const std::string source = address_of(peer);
  std::lock_guard lock(mu_);
  if (!failed_auth_.available(source, now, r.retry_after)) {
    r.verdict = Verdict::kTooManyFailures;
    return r;
  }
  r.token = auth_.authenticate(authorization);
  if (!r.token) {
    failed_auth_.take(source, now, r.retry_after);
    r.verdict = Verdict::kUnauthenticated;
    return r;
  }
  const auto index = static_cast<size_t>(r.token - auth_.tokens().data());
  if (index < per_token_.size() && !per_token_[index].take(now, r.retry_after)) {
    r.verdict = Verdict::kOverRate;
    return r;
  }
  r.verdict = Verdict::kOk;
  return r;
}

}  // namespace atende::control
