#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/config.h"

namespace atende {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

std::string error_of(const std::string& yaml) {
  try {
    parse_webhooks("atende.yaml: webhooks", YAML::Load(yaml));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigWebhooks, FileWithWebhooksAndScalarKeys) {
  ::setenv("ATENDE_TEST_HOOK_SECRET", "from-env", 1);
  Config c;
  load_config_file(write_temp("atende-hooks.yaml",
                              "max_calls: 7\n"
                              "webhooks:\n"
                              "  - url: https://crm.example.com/atende\n"
                              "    secret: ${ATENDE_TEST_HOOK_SECRET}\n"
                              "    events: [call.started, call.ended]\n"
                              "    flows: [sales]\n"
                              "    max_attempts: 3\n"
                              "  - url: http://127.0.0.1:9000/all\n"
                              "    secret: literal\n"
                              "log_format: json\n"),
                   c);
  EXPECT_EQ(c.max_calls, 7);
  EXPECT_EQ(c.log_format, LogFormat::json);
  ASSERT_EQ(c.webhooks.size(), 2u);
  EXPECT_EQ(c.webhooks[0].url, "https://crm.example.com/atende");
  EXPECT_EQ(c.webhooks[0].secret, "from-env");
  EXPECT_EQ(c.webhooks[0].events, (std::vector<std::string>{"call.started", "call.ended"}));
  EXPECT_EQ(c.webhooks[0].flows, std::vector<std::string>{"sales"});
  EXPECT_EQ(c.webhooks[0].max_attempts, 3);
  EXPECT_EQ(c.webhooks[1].secret, "literal");
  EXPECT_TRUE(c.webhooks[1].events.empty());
  EXPECT_TRUE(c.webhooks[1].flows.empty());
  EXPECT_EQ(c.webhooks[1].max_attempts, 5);

  Config empty;
  load_config_file(write_temp("atende-hooks-empty.yaml", "webhooks:\n"), empty);
  EXPECT_TRUE(empty.webhooks.empty());
}

TEST(ConfigWebhooks, UnsetEnvironmentVariableIsNamedAndSecretsAreNotShown) {
  ::unsetenv("ATENDE_TEST_NO_SUCH_SECRET");
  auto err = error_of("- url: https://h/x\n  secret: ${ATENDE_TEST_NO_SUCH_SECRET}\n");
  EXPECT_NE(err.find("ATENDE_TEST_NO_SUCH_SECRET is not set"), std::string::npos) << err;
  EXPECT_NE(err.find("webhooks[0].secret"), std::string::npos) << err;
  err = error_of("- url: https://h/x\n  secret: hunter2\n  max_attempts: 0\n");
  EXPECT_NE(err.find("max_attempts"), std::string::npos) << err;
  EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;
  err = error_of("- url: https://h/x\n");
  EXPECT_NE(err.find("secret is required"), std::string::npos) << err;
  err = error_of("- secret: x\n");
  EXPECT_NE(err.find("url is required"), std::string::npos) << err;
}

TEST(ConfigWebhooks, BadValuesAreErrorsThatNameThem) {
  auto err = error_of("- url: ftp://h/x\n  secret: s\n");
  EXPECT_NE(err.find("webhooks[0].url"), std::string::npos) << err;
  EXPECT_NE(err.find("http:// or https://"), std::string::npos) << err;
  EXPECT_NE(err.find("line 1"), std::string::npos) << err;

  err = error_of(
      "- url: https://h/x\n  secret: s\n- url: https://h/y\n  secret: s\n"
      "  events: [call.ended, call.ringing, call.bridged]\n");
  EXPECT_NE(err.find("webhooks[1].events"), std::string::npos) << err;
  EXPECT_NE(err.find("'call.ringing', 'call.bridged'"), std::string::npos) << err;
  EXPECT_NE(err.find("line 5"), std::string::npos) << err;

  err = error_of("- url: https://h/x\n  secret: s\n  evnets: [call.ended]\n");
  EXPECT_NE(err.find("webhooks[0].evnets"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown key"), std::string::npos) << err;

  EXPECT_NE(error_of("url: https://h/x\n").find("expected a list"), std::string::npos);
  EXPECT_NE(error_of("- https://h/x\n").find("expected a map"), std::string::npos);
  EXPECT_NE(error_of("- url: [a, b]\n  secret: s\n").find("expected a single value"),
            std::string::npos);
  EXPECT_NE(error_of("- url: https://h/x\n  secret: s\n  max_attempts: many\n").find("1..20"),
            std::string::npos);
  // A single event needs no brackets.
  auto eps =
      parse_webhooks("w", YAML::Load("- url: https://h/x\n  secret: s\n  events: call.ended\n"));
  EXPECT_EQ(eps.at(0).events, std::vector<std::string>{"call.ended"});
}

TEST(ConfigWebhooks, OtherKeysStillNeedASingleValue) {
  try {
    Config c;
    load_config_file(write_temp("atende-hooks-list.yaml", "data_dir: [a, b]\n"), c);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("expected a single value"), std::string::npos);
  }
}

}  // namespace
}  // namespace atende
