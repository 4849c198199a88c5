// The `api_tokens:` and `api_read_requires_token` config keys: good files load, bad ones
// name the entry, field and line, ${ENV} substitution, and secrets never reach a message.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "core/config.h"

namespace atende {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  auto path =
      std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

std::string load_error(const std::string& text) {
  Config c;
  try {
    load_config_file(write_temp("atende-tokens-bad", text), c);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigApiTokens, DefaultsAreNoTokensAndReadsGuardedOnceTokensExist) {
  Config c;
  EXPECT_TRUE(c.api_tokens.empty());
  EXPECT_TRUE(c.api_read_requires_token);  // takes effect only with tokens (ApiAuth)
}

TEST(ConfigApiTokens, GoodFileLoadsEveryField) {
  ::setenv("ATENDE_TEST_CRM_TOKEN", "env-secret-0123456789abcdef", 1);
  Config c;
  load_config_file(write_temp("atende-tokens-good",
                              "max_calls: 5\n"
                              "api_read_requires_token: false\n"
                              "api_tokens:\n"
                              "  - name: crm\n"
                              "    token: ${ATENDE_TEST_CRM_TOKEN}\n"
                              "    allow: [\"+5511*\", 2xxx, \"sip:support@pbx.example.com\"]\n"
                              "    rate_per_minute: 120\n"
                              "    burst: 20\n"
                              "  - name: readonly\n"
                              "    token: literal-secret-0123456789\n"),
                   c);
  EXPECT_EQ(c.max_calls, 5);
  EXPECT_FALSE(c.api_read_requires_token);
  ASSERT_EQ(c.api_tokens.size(), 2u);
  EXPECT_EQ(c.api_tokens[0].name, "crm");
  EXPECT_EQ(c.api_tokens[0].token, "env-secret-0123456789abcdef");
  EXPECT_EQ(c.api_tokens[0].allow,
            (std::vector<std::string>{"+5511*", "2xxx", "sip:support@pbx.example.com"}));
  EXPECT_EQ(c.api_tokens[0].rate_per_minute, 120);
  EXPECT_EQ(c.api_tokens[0].burst, 20);
  EXPECT_EQ(c.api_tokens[1].token, "literal-secret-0123456789");
  EXPECT_TRUE(c.api_tokens[1].allow.empty());  // default: may dial nothing
  EXPECT_EQ(c.api_tokens[1].rate_per_minute, 60);
  EXPECT_EQ(c.api_tokens[1].burst, 10);
  EXPECT_NO_THROW(validate_config(c));
}

TEST(ConfigApiTokens, EmptyListAndEmptyKeyMeanNoTokens) {
  Config c;
  load_config_file(write_temp("atende-tokens-empty", "api_tokens: []\n"), c);
  EXPECT_TRUE(c.api_tokens.empty());
  load_config_file(write_temp("atende-tokens-null", "api_tokens:\n"), c);
  EXPECT_TRUE(c.api_tokens.empty());
}

TEST(ConfigApiTokens, UnsetEnvironmentVariableIsNamed) {
  ::unsetenv("ATENDE_TEST_MISSING_TOKEN");
  const auto err = load_error(
      "api_tokens:\n"
      "  - name: crm\n"
      "    token: ${ATENDE_TEST_MISSING_TOKEN}\n");
  EXPECT_NE(err.find("ATENDE_TEST_MISSING_TOKEN"), std::string::npos) << err;
  EXPECT_NE(err.find("is not set"), std::string::npos) << err;
  EXPECT_NE(err.find("line 3"), std::string::npos) << err;
  EXPECT_NE(load_error("api_tokens:\n  - name: crm\n    token: ${BAD-NAME}\n").find("${"),
            std::string::npos);
  EXPECT_NE(
      load_error("api_tokens:\n  - name: crm\n    token: abc${X}def0123456789\n").find("alone"),
      std::string::npos);
}

TEST(ConfigApiTokens, ShortTokenIsRefusedWithoutShowingIt) {
  const auto err = load_error(
      "api_tokens:\n"
      "  - name: crm\n"
      "    token: hunter2\n");
  EXPECT_NE(err.find("too short to be safe"), std::string::npos) << err;
  EXPECT_NE(err.find("'crm'"), std::string::npos) << err;
  EXPECT_NE(err.find("line 3"), std::string::npos) << err;
  EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;

  ::setenv("ATENDE_TEST_SHORT_TOKEN", "short", 1);
  EXPECT_NE(load_error("api_tokens:\n  - name: crm\n    token: ${ATENDE_TEST_SHORT_TOKEN}\n")
                .find("too short"),
            std::string::npos);
}

TEST(ConfigApiTokens, BadEntriesNameTheFieldAndLine) {
  struct Case {
    const char* yaml;
    const char* needle;
    const char* line;
  };
  const Case cases[] = {
      {"api_tokens: crm\n", "expected a list", "line 1"},
      {"api_tokens: {name: crm}\n", "expected a list", "line 1"},
      {"api_tokens:\n  - crm\n", "expected a map", "line 2"},
      {"api_tokens:\n  - token: secret-0123456789abcdef\n", "name is required", "line 2"},
      {"api_tokens:\n  - name: crm\n", "token", "line 2"},
      {"api_tokens:\n  - name: \"bad name\"\n    token: secret-0123456789abcdef\n", "name",
       "line 2"},
      {"api_tokens:\n  - name: crm\n    token: secret-0123456789abcdef\n    colour: red\n",
       "colour (line 4): unknown key", "line 4"},
      {"api_tokens:\n  - name: crm\n    token: secret-0123456789abcdef\n    allow: \"+55*\"\n",
       "list of patterns", "line 4"},
      {"api_tokens:\n  - name: crm\n    token: secret-0123456789abcdef\n    allow: [[1]]\n",
       "single value", "line 4"},
      {"api_tokens:\n  - name: crm\n    token: secret-0123456789abcdef\n    rate_per_minute: "
       "0\n",
       "rate_per_minute", "line 4"},
      {"api_tokens:\n  - name: crm\n    token: secret-0123456789abcdef\n    burst: lots\n", "burst",
       "line 4"},
      {"api_tokens:\n  - name: crm\n    token: \"secret with spaces 0123\"\n", "printable",
       "line 3"},
      {"api_tokens:\n  - name: a\n    token: secret-0123456789abcdef\n"
       "  - name: a\n    token: secret-fedcba9876543210\n",
       "used twice", "line 4"},
      {"api_tokens:\n  - name: a\n    token: secret-0123456789abcdef\n"
       "  - name: b\n    token: secret-0123456789abcdef\n",
       "same token as 'a'", "line 4"},
      {"api_read_requires_token: maybe\n", "true or false", "line 1"},
  };
  for (const Case& c : cases) {
    const auto err = load_error(c.yaml);
    EXPECT_NE(err.find(c.needle), std::string::npos) << c.yaml << " -> " << err;
    EXPECT_NE(err.find(c.line), std::string::npos) << c.yaml << " -> " << err;
    EXPECT_NE(err.find("api_"), std::string::npos) << c.yaml << " -> " << err;
    EXPECT_EQ(err.find("secret-"), std::string::npos) << c.yaml << " -> " << err;
  }
}

}  // namespace
}  // namespace atende
