// access: of the config file: defaults, the documented example, and errors that name the
// key, the entry and the line.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "core/config.h"
#include "test_core_config_file.h"

namespace atende {
namespace {

using testing::config_error;
using testing::load_config_text;

TEST(ConfigAccess, DefaultsArePrivateRangesOnly) {
  Config c;
  EXPECT_EQ(c.access.allow, private_ranges());
  EXPECT_EQ(c.access.trusted, private_ranges());
  EXPECT_TRUE(c.access.deny.empty());
  EXPECT_TRUE(c.access.denied_drop);
  EXPECT_TRUE(c.access.accounts.empty());
  EXPECT_EQ(c.access.challenge_status, 401);
  EXPECT_EQ(c.access.algorithms, (std::vector<std::string>{"MD5", "SHA-256"}));
  EXPECT_FALSE(c.access.allow_given);
  EXPECT_GT(c.access.invite.per_second, 0);
  EXPECT_EQ(c.access.calls_per_source, 0);
}

TEST(ConfigAccess, DocumentedExampleLoads) {
  setenv("ALICE_SIP_PASSWORD", "alice-secret", 1);
  Config c;
  load_config_file(std::string(ATENDE_SOURCE_DIR) + "/docs/examples/access.yaml", c);
  EXPECT_NO_THROW(validate_config(c));
  EXPECT_TRUE(c.access.allow_given);
  ASSERT_FALSE(c.access.accounts.empty());
  EXPECT_EQ(c.access.accounts[0].password, "alice-secret");
  EXPECT_GT(c.access.persona_calls_per_hour, 0);
}

TEST(ConfigAccess, FullSection) {
  setenv("BOB_PW", "b0b", 1);
  const Config c = load_config_text(R"(
access:
  allow: [0.0.0.0/0, "::/0"]
  deny: [203.0.113.0/24]
  trusted: [10.0.0.5, "fd00::/8"]
  exempt: []
  denied: reject
  realm: calls.example.com
  challenge: 407
  nonce_seconds: 60
  algorithms: [SHA-256]
  kernel_filter: false
  accounts:
    - {user: alice, password: "pa:ss word"}
    - {user: bob, password: "${BOB_PW}"}
  limits:
    invite_per_second: 2.5
    register_per_second: 1
    register_burst: 3
    options_per_second: 0
    auth_failures_per_minute: 5
    over_limit: "503"
    block_seconds: 120
    calls_per_source: 4
    persona_calls_per_hour: 10
    calls_per_hour: {sales: 3, survey: 0}
    max_sources: 500
)");
  const auto& a = c.access;
  EXPECT_EQ(a.allow.size(), 2u);
  EXPECT_EQ(a.deny[0].str(), "203.0.113.0/24");
  EXPECT_EQ(a.trusted[0].str(), "10.0.0.5/32");
  EXPECT_TRUE(a.exempt.empty());
  EXPECT_FALSE(a.denied_drop);
  EXPECT_EQ(a.realm, "calls.example.com");
  EXPECT_EQ(a.challenge_status, 407);
  EXPECT_EQ(a.nonce_seconds, 60);
  EXPECT_EQ(a.algorithms, std::vector<std::string>{"SHA-256"});
  EXPECT_FALSE(a.kernel_filter);
  ASSERT_EQ(a.accounts.size(), 2u);
  EXPECT_EQ(a.accounts[0].password, "pa:ss word");
  EXPECT_EQ(a.accounts[1].password, "b0b");
  EXPECT_DOUBLE_EQ(a.invite.per_second, 2.5);
  EXPECT_EQ(a.invite.burst, 5);  // twice the rate when not given
  EXPECT_EQ(a.register_.burst, 3);
  EXPECT_EQ(a.options.per_second, 0);
  EXPECT_EQ(a.auth_failures_per_minute, 5);
  EXPECT_FALSE(a.over_limit_drop);
  EXPECT_EQ(a.block_seconds, 120);
  EXPECT_EQ(a.calls_per_source, 4);
  EXPECT_EQ(a.persona_calls_per_hour, 10);
  EXPECT_EQ(a.calls_per_hour.at("sales"), 3);
  EXPECT_EQ(a.max_sources, 500);
}

TEST(ConfigAccess, EmptyListsAreEmpty) {
  const Config c = load_config_text("access:\n  allow: []\n  trusted:\n");
  EXPECT_TRUE(c.access.allow.empty());
  EXPECT_TRUE(c.access.trusted.empty());
}

TEST(ConfigAccess, ErrorsNameKeyAndLine) {
  struct Case {
    const char* yaml;
    const char* expect;
  };
  const Case cases[] = {
      {"access:\n  allow: [10.0.0.0/33]\n", "allow (line 2)[0] (line 2): prefix /33"},
      {"access:\n  allow:\n    - 10.0.0.0/8\n    - example.com\n",
       "[1] (line 4): 'example.com' is not"},
      {"access:\n  deny: [10.1.0.0/8]\n", "did you mean 10.0.0.0/8"},
      {"access:\n  allow: {a: b}\n", "expected a list of CIDRs"},
      {"access:\n  alow: [10.0.0.0/8]\n", "alow (line 2): unknown key"},
      {"access: [1, 2]\n", "access (line 1): expected a map"},
      {"access:\n  denied: maybe\n", "'maybe' must be drop or reject"},
      {"access:\n  challenge: 403\n", "challenge"},
      {"access:\n  realm: 'a\"b'\n", "realm"},
      {"access:\n  accounts: [{user: alice}]\n", "account 'alice' needs a password"},
      {"access:\n  accounts: [{user: 'a b', password: x}]\n", "user 'a b' must be"},
      {"access:\n  accounts: [{user: a, password: x}, {user: a, password: y}]\n", "user 'a' twice"},
      {"access:\n  accounts: [{user: a, password: x, pin: 1}]\n", "pin: unknown key"},
      {"access:\n  accounts: [{user: a, password: '${ATENDE_NO_SUCH_VAR}'}]\n",
       "environment variable ATENDE_NO_SUCH_VAR is not set"},
      {"access:\n  limits:\n    invite_per_second: fast\n",
       "invite_per_second (line 3): 'fast' must be a number"},
      {"access:\n  limits:\n    invite_per_second: -1\n", "must be a number"},
      {"access:\n  limits:\n    over_limit: reject\n", "must be drop or 503"},
      {"access:\n  limits:\n    block_seconds: 100000\n", "out of range"},
      {"access:\n  limits:\n    calls_per_hour: [sales]\n", "expected a map of flow or persona"},
      {"access:\n  limits:\n    calls_per_hour: {sales: lots}\n",
       "sales: 'lots' is not a whole number"},
      {"access:\n  limits:\n    max_sources: 3\n", "out of range"},
      {"access:\n  limits:\n    invite_rate: 3\n", "invite_rate (line 3): unknown key"},
      {"access:\n  kernel_filter: sometimes\n", "must be true or false"},
      {"access:\n  algorithms: [SHA-512]\n", "'SHA-512' must be MD5 or SHA-256"},
      {"access:\n  algorithms: []\n", "expected a list of MD5, SHA-256"},
  };
  for (const auto& c : cases) {
    const std::string e = config_error(c.yaml);
    EXPECT_NE(e.find(c.expect), std::string::npos) << c.yaml << "\n got: " << e;
  }
}

TEST(ConfigAccess, PasswordsNeverInErrors) {
  const std::string e =
      config_error("access:\n  accounts: [{user: a, password: hunter2, extra: x}]\n");
  EXPECT_FALSE(e.empty());
  EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
}

}  // namespace
}  // namespace atende
