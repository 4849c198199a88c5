// The gRPC service's token check and limits (src/control/grpc_guard.h): the REST API's
// rules, keyed by the address in gRPC's peer string. Time is stepped, never slept.
#include <gtest/gtest.h>

#include "control/grpc_guard.h"

namespace atende::control {
namespace {

const std::string kSecret = "grpc-unit-token-0123456789";

api::ApiAuth auth_with_token(int per_minute, int burst) {
  api::ApiAuth auth;
  auth.add({.name = "ctl",
            .token = kSecret,
            .allow = {"sip:*"},
            .rate_per_minute = per_minute,
            .burst = burst});
  return auth;
}

TEST(GrpcGuard, AddressOfPeer) {
  EXPECT_EQ(GrpcGuard::address_of("ipv4:10.0.0.7:51234"), "10.0.0.7");
  EXPECT_EQ(GrpcGuard::address_of("ipv6:[::1]:5000"), "::1");
  EXPECT_EQ(GrpcGuard::address_of("unix:/tmp/x"), "unix:/tmp/x");
}

TEST(GrpcGuard, TokenRequiredAndChecked) {
  auto auth = auth_with_token(600, 100);
  GrpcGuard guard(auth);
  const auto now = MonoClock::now();
  EXPECT_EQ(guard.check(nullptr, "ipv4:1.2.3.4:1", now).verdict,
            GrpcGuard::Verdict::kUnauthenticated);
  const std::string wrong = "Bearer wrong-token-0123456789";
  EXPECT_EQ(guard.check(&wrong, "ipv4:1.2.3.4:1", now).verdict,
            GrpcGuard::Verdict::kUnauthenticated);
  const std::string right = "Bearer " + kSecret;
  const auto ok = guard.check(&right, "ipv4:1.2.3.4:1", now);
  ASSERT_EQ(ok.verdict, GrpcGuard::Verdict::kOk);
  EXPECT_EQ(ok.token->name, "ctl");
}

TEST(GrpcGuard, TooManyFailuresFromOneAddressAreRefusedEvenWithTheRightToken) {
  auto auth = auth_with_token(600, 100);
  GrpcGuard guard(auth);
  auto now = MonoClock::now();
  const std::string wrong = "Bearer guess-0000000000000000";
  for (int i = 0; i < GrpcGuard::kFailedAuthPerMinute; ++i) {
    // Other ports of one address are the same client.
    EXPECT_EQ(guard.check(&wrong, "ipv4:1.2.3.4:" + std::to_string(1000 + i), now).verdict,
              GrpcGuard::Verdict::kUnauthenticated);
  }
  const std::string right = "Bearer " + kSecret;
  const auto refused = guard.check(&right, "ipv4:1.2.3.4:9", now);
  EXPECT_EQ(refused.verdict, GrpcGuard::Verdict::kTooManyFailures);
  EXPECT_GE(refused.retry_after, 1);
  // Another address is not affected; a minute later this one may try again.
  EXPECT_EQ(guard.check(&right, "ipv4:5.6.7.8:9", now).verdict, GrpcGuard::Verdict::kOk);
  now += std::chrono::seconds(61);
  EXPECT_EQ(guard.check(&right, "ipv4:1.2.3.4:9", now).verdict, GrpcGuard::Verdict::kOk);
}

TEST(GrpcGuard, ATokenOverItsRateIsRefusedUntilItRefills) {
  auto auth = auth_with_token(60, 2);
  GrpcGuard guard(auth);
  auto now = MonoClock::now();
  const std::string right = "Bearer " + kSecret;
  EXPECT_EQ(guard.check(&right, "ipv4:1.2.3.4:1", now).verdict, GrpcGuard::Verdict::kOk);
  EXPECT_EQ(guard.check(&right, "ipv4:1.2.3.4:1", now).verdict, GrpcGuard::Verdict::kOk);
  const auto over = guard.check(&right, "ipv4:1.2.3.4:1", now);
  EXPECT_EQ(over.verdict, GrpcGuard::Verdict::kOverRate);
  EXPECT_GE(over.retry_after, 1);
  now += std::chrono::seconds(1);
  EXPECT_EQ(guard.check(&right, "ipv4:1.2.3.4:1", now).verdict, GrpcGuard::Verdict::kOk);
}

}  // namespace
}  // namespace atende::control
