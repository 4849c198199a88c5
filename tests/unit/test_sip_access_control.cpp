// AccessControl: the address lists, per-source rates with blocking, digest through it,
// calls at once, calls per hour into costly flows, the bounded source table and the metrics.
#include <gtest/gtest.h>

#include <regex>

#include "core/metrics.h"
#include "sip/access_control.h"

namespace atende::sip {
namespace {

using namespace std::chrono_literals;

IpAddress ip(const char* s) { return *parse_ip(s); }

AccessConfig base() {
  AccessConfig c;
  c.allow = {*parse_cidr("0.0.0.0/0"), *parse_cidr("::/0")};
  c.deny = {*parse_cidr("203.0.113.0/24")};
  c.trusted = {*parse_cidr("10.0.0.0/8")};
  c.exempt = {*parse_cidr("127.0.0.0/8")};
  c.accounts = {{"alice", "wonderland"}};
  c.invite = {5, 5};
  c.register_ = {1, 2};
  c.options = {2, 2};
  c.auth_failures_per_minute = 3;
  c.block_seconds = 60;
  return c;
}

std::string refused(MetricsRegistry& reg, const char* reason) {
  const std::string text = reg.render();
  std::regex re(std::string("atende_sip_refused_total\\{reason=\"") + reason + "\"\\} (\\d+)");
  std::smatch m;
  return std::regex_search(text, m, re) ? m[1].str() : "absent";
}

TEST(RateBucket, BurstThenRate) {
  const MonoTime t = MonoClock::now();
  RateBucket b(2, 4, t);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(b.take(t)) << i;
  EXPECT_FALSE(b.take(t));
  EXPECT_NEAR(b.wait_seconds(t), 0.5, 1e-9);
  EXPECT_FALSE(b.take(t + 400ms));
  EXPECT_TRUE(b.take(t + 500ms));
  EXPECT_FALSE(b.full(t + 1s));
  EXPECT_TRUE(b.full(t + 10s));
  EXPECT_TRUE(b.take(t + 10s));
  RateBucket unlimited(0, 0, t);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(unlimited.take(t));
}

TEST(AccessControl, AllowAndDenyLists) {
  MetricsRegistry reg;
  AccessConfig c = base();
  c.allow = private_ranges();
  AccessControl ac(c, &reg, "s");
  const MonoTime t = MonoClock::now();
  EXPECT_TRUE(ac.check_request(ip("192.168.1.5"), RequestKind::kInvite, t).ok());
  auto d = ac.check_request(ip("8.8.8.8"), RequestKind::kOptions, t);
  EXPECT_EQ(d.action, AccessDecision::kDrop);
  EXPECT_EQ(d.reason, RefuseReason::kDenied);
  EXPECT_EQ(refused(reg, "denied"), "1");
  // deny wins over allow; "reject" answers 403 instead of dropping.
  c.allow = {*parse_cidr("0.0.0.0/0")};
  c.denied_drop = false;
  ac.reload(c);
  d = ac.check_request(ip("203.0.113.9"), RequestKind::kInvite, t);
  EXPECT_EQ(d.action, AccessDecision::kRespond);
  EXPECT_EQ(d.status, 403);
  EXPECT_TRUE(ac.check_request(ip("8.8.8.8"), RequestKind::kInvite, t).ok());
  EXPECT_FALSE(ac.check_request(ip("::1"), RequestKind::kInvite, t).ok());  // no IPv6 allowed
}

TEST(AccessControl, TrustedSkipAuthOthersMust) {
  AccessControl ac(base(), nullptr, "s");
  const MonoTime t = MonoClock::now();
  EXPECT_FALSE(ac.check_request(ip("10.1.1.1"), RequestKind::kInvite, t).must_authenticate);
  EXPECT_TRUE(ac.check_request(ip("198.51.100.1"), RequestKind::kInvite, t).must_authenticate);
  EXPECT_FALSE(ac.check_request(ip("198.51.100.1"), RequestKind::kOptions, t).must_authenticate);
}

TEST(AccessControl, RateOverLimitBlocksTheSource) {
  MetricsRegistry reg;
  AccessControl ac(base(), &reg, "s");
  const MonoTime t = MonoClock::now();
  const IpAddress flood = ip("198.51.100.7");
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(ac.check_request(flood, RequestKind::kInvite, t).ok());
  const uint64_t v = ac.version();
  auto d = ac.check_request(flood, RequestKind::kInvite, t);
  EXPECT_EQ(d.action, AccessDecision::kDrop);
  EXPECT_EQ(d.reason, RefuseReason::kRate);
  EXPECT_NE(ac.version(), v);  // the kernel filter must learn of it
  ASSERT_EQ(ac.blocked_sources(t, 10).size(), 1u);
  EXPECT_EQ(ac.blocked_sources(t, 10)[0], flood);
  // Blocked for every method, even when its bucket refilled, until block_seconds pass.
  EXPECT_FALSE(ac.check_request(flood, RequestKind::kOptions, t + 30s).ok());
  EXPECT_FALSE(ac.check_request(flood, RequestKind::kInvite, t + 59s).ok());
  // Another source is not affected.
  EXPECT_TRUE(ac.check_request(ip("198.51.100.8"), RequestKind::kInvite, t).ok());
  ac.tick(t + 61s);
  EXPECT_TRUE(ac.blocked_sources(t + 61s, 10).empty());
  EXPECT_TRUE(ac.check_request(flood, RequestKind::kInvite, t + 61s).ok());
  EXPECT_EQ(refused(reg, "rate"), "3");
}

TEST(AccessControl, Over503Mode) {
  AccessConfig c = base();
  c.over_limit_drop = false;
  AccessControl ac(c, nullptr, "s");
  const MonoTime t = MonoClock::now();
  for (int i = 0; i < 2; ++i) ac.check_request(ip("198.51.100.7"), RequestKind::kRegister, t);
  auto d = ac.check_request(ip("198.51.100.7"), RequestKind::kRegister, t);
  EXPECT_EQ(d.action, AccessDecision::kRespond);
  EXPECT_EQ(d.status, 503);
  EXPECT_EQ(d.retry_after, 60);
  // Answered, so not for the kernel filter.
  EXPECT_TRUE(ac.blocked_sources(t, 10).empty());
}

TEST(AccessControl, ExemptSourcesAreNotLimited) {
  AccessControl ac(base(), nullptr, "s");
  const MonoTime t = MonoClock::now();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(ac.check_request(ip("127.0.0.1"), RequestKind::kInvite, t).ok());
  }
  EXPECT_EQ(ac.sources(), 0u);
}

class AccessAuth : public ::testing::Test {
 protected:
  MetricsRegistry reg;
  AccessControl ac{base(), &reg, "s"};
  IpAddress src = ip("198.51.100.20");
  MonoTime t = MonoClock::now();

  std::string answer(const std::string& challenge, const std::string& user,
                     const std::string& password, const char* nc = "00000001") {
    std::smatch m;
    std::regex re("nonce=\"([^\"]+)\"");
    EXPECT_TRUE(std::regex_search(challenge, m, re));
    const std::string nonce = m[1];
    const std::string uri = "sip:sales@192.0.2.1";
    const std::string resp = digest_response(DigestAlgorithm::kMd5, user, "atende", password,
                                             "INVITE", uri, nonce, nc, "abc", "auth");
    return "Digest username=\"" + user + "\", realm=\"atende\", nonce=\"" + nonce + "\", uri=\"" +
           uri + "\", response=\"" + resp + "\", algorithm=MD5, qop=auth, nc=" + nc +
           ", cnonce=\"abc\"";
  }
  std::string md5_challenge() { return ac.challenges(src, t, false)[0]; }
};

TEST_F(AccessAuth, NoCredentialsGetAChallenge) {
  auto v = ac.authenticate(src, "", "INVITE", t);
  EXPECT_EQ(v.kind, AccessControl::AuthVerdict::kChallenge);
  EXPECT_FALSE(v.stale);
  EXPECT_EQ(ac.challenge_status(), 401);
  EXPECT_EQ(refused(reg, "auth"), "0");
}

TEST_F(AccessAuth, RightPasswordPasses) {
  auto v = ac.authenticate(src, answer(md5_challenge(), "alice", "wonderland"), "INVITE", t);
  EXPECT_EQ(v.kind, AccessControl::AuthVerdict::kOk);
  EXPECT_EQ(v.user, "alice");
}

TEST_F(AccessAuth, WrongPasswordAndUnknownUserGetTheSameChallenge) {
  auto a = ac.authenticate(src, answer(md5_challenge(), "alice", "x"), "INVITE", t);
  auto b = ac.authenticate(src, answer(md5_challenge(), "nobody", "x"), "INVITE", t);
  EXPECT_EQ(a.kind, AccessControl::AuthVerdict::kChallenge);
  EXPECT_EQ(b.kind, AccessControl::AuthVerdict::kChallenge);
  EXPECT_EQ(a.stale, b.stale);
  EXPECT_EQ(refused(reg, "auth"), "2");
}

TEST_F(AccessAuth, TooManyWrongPasswordsBlock) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ac.authenticate(src, answer(md5_challenge(), "alice", "guess"), "INVITE", t).kind,
              AccessControl::AuthVerdict::kChallenge);
  }
  auto v = ac.authenticate(src, answer(md5_challenge(), "alice", "guess"), "INVITE", t);
  EXPECT_EQ(v.kind, AccessControl::AuthVerdict::kRefused);
  EXPECT_EQ(v.drop.action, AccessDecision::kDrop);
  // Now even the right password is of no use until the block ends: the source is blocked.
  EXPECT_FALSE(ac.check_request(src, RequestKind::kInvite, t + 1s).ok());
  EXPECT_EQ(ac.blocked_sources(t, 5).size(), 1u);
}

TEST_F(AccessAuth, GarbageCredentialsAreAFailure) {
  auto v = ac.authenticate(src, "Digest this is not", "INVITE", t);
  EXPECT_EQ(v.kind, AccessControl::AuthVerdict::kChallenge);
  EXPECT_EQ(refused(reg, "auth"), "1");
}

TEST_F(AccessAuth, NoncesSurviveAReload) {
  const std::string ch = md5_challenge();
  AccessConfig c = base();
  c.invite = {100, 100};
  ac.reload(c);
  EXPECT_EQ(ac.authenticate(src, answer(ch, "alice", "wonderland"), "INVITE", t).kind,
            AccessControl::AuthVerdict::kOk);
}

TEST(AccessControl, CallsAtOncePerSource) {
  MetricsRegistry reg;
  AccessConfig c = base();
  c.calls_per_source = 2;
  AccessControl ac(c, &reg, "s");
  const MonoTime t = MonoClock::now();
  const IpAddress a = ip("198.51.100.30");
  EXPECT_TRUE(ac.call_begin(a, t).ok());
  EXPECT_TRUE(ac.call_begin(a, t).ok());
  auto d = ac.call_begin(a, t);
  EXPECT_EQ(d.action, AccessDecision::kRespond);
  EXPECT_EQ(d.status, 486);
  EXPECT_EQ(d.reason, RefuseReason::kConcurrent);
  EXPECT_TRUE(ac.call_begin(ip("198.51.100.31"), t).ok());
  ac.call_end(a);
  EXPECT_TRUE(ac.call_begin(a, t).ok());
  EXPECT_TRUE(ac.call_begin(ip("127.0.0.1"), t).ok());  // exempt
  EXPECT_EQ(refused(reg, "concurrent"), "1");
}

TEST(AccessControl, CallsPerHourIntoCostlyFlows) {
  MetricsRegistry reg;
  AccessConfig c = base();
  c.persona_calls_per_hour = 2;
  c.calls_per_hour = {{"sales", 1}, {"survey", 3}};
  AccessControl ac(c, &reg, "s");
  const MonoTime t = MonoClock::now();
  const IpAddress a = ip("198.51.100.40");
  // A persona with its own limit (sales: 1), a persona on the default (2), a plain flow with
  // a limit (survey: 3), a plain flow without (echo: none).
  EXPECT_TRUE(ac.charge_call(a, "sales", true, t).ok());
  auto d = ac.charge_call(a, "sales", true, t);
  EXPECT_EQ(d.reason, RefuseReason::kCost);
  EXPECT_EQ(d.status, 503);
  EXPECT_GE(d.retry_after, 3500);
  EXPECT_TRUE(ac.charge_call(a, "support", true, t).ok());
  EXPECT_TRUE(ac.charge_call(a, "support", true, t).ok());
  EXPECT_FALSE(ac.charge_call(a, "support", true, t).ok());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(ac.charge_call(a, "survey", false, t).ok());
  EXPECT_FALSE(ac.charge_call(a, "survey", false, t).ok());
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(ac.charge_call(a, "echo", false, t).ok());
  // Per source: another caller has its own hour.
  EXPECT_TRUE(ac.charge_call(ip("198.51.100.41"), "sales", true, t).ok());
  // An hour later (the bucket refills continuously) sales has room again.
  EXPECT_TRUE(ac.charge_call(a, "sales", true, t + 3601s).ok());
  EXPECT_EQ(refused(reg, "cost"), "3");
}

TEST(AccessControl, TableIsBoundedUnderAFloodOfAddresses) {
  MetricsRegistry reg;
  AccessConfig c = base();
  c.max_sources = 100;
  c.calls_per_source = 1;
  c.persona_calls_per_hour = 1;
  AccessControl ac(c, &reg, "s");
  MonoTime t = MonoClock::now();
  // A caller with a call up and a costly call counted: it holds something.
  const IpAddress caller = ip("198.51.100.50");
  ASSERT_TRUE(ac.call_begin(caller, t).ok());
  ASSERT_TRUE(ac.charge_call(caller, "sales", true, t).ok());
  // 100,000 spoofed sources, one INVITE each.
  for (uint32_t i = 0; i < 100000; ++i) {
    IpAddress a;
    a.bytes = {100, static_cast<uint8_t>(64 + (i >> 16)), static_cast<uint8_t>(i >> 8),
               static_cast<uint8_t>(i)};
    ac.check_request(a, RequestKind::kInvite, t);
    ASSERT_LE(ac.sources(), 100u);
  }
  // The caller's state survived the flood: still one call up, its hour still counted.
  EXPECT_FALSE(ac.call_begin(caller, t).ok());
  EXPECT_FALSE(ac.charge_call(caller, "sales", true, t).ok());
  ac.call_end(caller);
  EXPECT_TRUE(ac.call_begin(caller, t).ok());
}

TEST(AccessControl, WhenEveryEntryHoldsSomethingNewcomersShareOneSlot) {
  AccessConfig c = base();
  c.max_sources = 16;
  c.calls_per_source = 5;
  AccessControl ac(c, nullptr, "s");
  const MonoTime t = MonoClock::now();
  for (int i = 0; i < 16; ++i) {
    IpAddress a = ip("198.51.100.0");
    a.bytes[3] = static_cast<uint8_t>(i);
    ASSERT_TRUE(ac.call_begin(a, t).ok());
  }
  // The shared slot has the INVITE bucket of one source (5 at once): a flood from 1,000
  // new addresses gets 5 through, not 5,000.
  int passed = 0;
  for (int i = 0; i < 1000; ++i) {
    IpAddress a = ip("198.18.0.0");
    a.bytes[2] = static_cast<uint8_t>(i >> 8);
    a.bytes[3] = static_cast<uint8_t>(i);
    passed += ac.check_request(a, RequestKind::kInvite, t).ok();
  }
  EXPECT_EQ(passed, 5);
  EXPECT_EQ(ac.sources(), 16u);
}

TEST(AccessControl, ReloadKeepsCountsAndTakesNewRates) {
  AccessControl ac(base(), nullptr, "s");
  const MonoTime t = MonoClock::now();
  const IpAddress a = ip("198.51.100.60");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(ac.check_request(a, RequestKind::kInvite, t).ok());
  AccessConfig c = base();
  c.invite = {0, 0};  // no limit
  ac.reload(c);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(ac.check_request(a, RequestKind::kInvite, t).ok());
  c.allow = {*parse_cidr("10.0.0.0/8")};
  ac.reload(c);
  EXPECT_FALSE(ac.check_request(a, RequestKind::kInvite, t).ok());
}

TEST(AccessControl, DescribeSaysTheDefaultAndHowToChangeIt) {
  AccessConfig c;
  AccessControl ac(c, nullptr, "s");
  const std::string line = ac.describe();
  EXPECT_NE(line.find("127.0.0.0/8"), std::string::npos) << line;
  EXPECT_NE(line.find("fc00::/7"), std::string::npos) << line;
  EXPECT_NE(line.find("the default"), std::string::npos) << line;
  EXPECT_NE(line.find("access.allow"), std::string::npos) << line;
}

}  // namespace
}  // namespace atende::sip
