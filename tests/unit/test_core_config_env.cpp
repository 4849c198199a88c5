// Every setting by environment variable: the name rule, that each kind of key (one value,
// host:port, a range, a boolean, a list section) is applied like the file's, errors that
// name the variable, and the order defaults < file < environment (flags come last, in
// main(); tests/e2e/test_operations.py checks them on the real binary).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/config_env.h"

namespace atende {
namespace {

std::string write_temp(const std::string& text) {
  auto path = std::filesystem::temp_directory_path() /
              ("atende-env-" + std::to_string(getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigEnv, NameRule) {
  EXPECT_EQ(env_name("sip_listen"), "ATENDE_SIP_LISTEN");
  EXPECT_EQ(env_name("sip-listen"), "ATENDE_SIP_LISTEN");  // the flag's spelling
  EXPECT_EQ(env_name("rtp_ports"), "ATENDE_RTP_PORTS");
  EXPECT_EQ(env_name("config"), "ATENDE_CONFIG");
  EXPECT_EQ(key_of_env("ATENDE_HTTP_LISTEN"), "http_listen");
  EXPECT_EQ(key_of_env("ATENDE_"), std::nullopt);
  EXPECT_EQ(key_of_env("HTTP_LISTEN"), std::nullopt);
  EXPECT_EQ(key_of_env("XATENDE_HTTP_LISTEN"), std::nullopt);
}

TEST(ConfigEnv, EveryKindOfKeyApplies) {
  Config cfg;
  const auto applied = apply_environment({{"ATENDE_SIP_LISTEN", "[::1]:5070"},
                                          {"ATENDE_HTTP_LISTEN", "0.0.0.0:9090"},
                                          {"ATENDE_RTP_PORTS", "40000-40100"},
                                          {"ATENDE_DATA_DIR", "/var/lib/atende"},
                                          {"ATENDE_MAX_CALLS", "12"},
                                          {"ATENDE_LOG_FORMAT", "json"},
                                          {"ATENDE_API_READ_REQUIRES_TOKEN", "true"},
                                          {"ATENDE_LLM_BASE_URL", "http://127.0.0.1:1/v1"},
                                          {"ATENDE_DIALPLAN", "[{match: \"2xxx\", flow: menu}]"},
                                          {"ATENDE_AUDIOSOCKET_LISTEN", "off"}},
                                         cfg);
  EXPECT_EQ(applied.size(), 10u);
  EXPECT_EQ(cfg.sip_listen.host, "::1");
  EXPECT_EQ(cfg.sip_listen.port, 5070);
  EXPECT_EQ(cfg.http_listen.str(), "0.0.0.0:9090");
  EXPECT_EQ(cfg.rtp_port_min, 40000);
  EXPECT_EQ(cfg.rtp_port_max, 40100);
  EXPECT_EQ(cfg.data_dir, "/var/lib/atende");
  EXPECT_EQ(cfg.max_calls, 12);
  EXPECT_EQ(cfg.log_format, LogFormat::json);
  EXPECT_TRUE(cfg.api_read_requires_token);
  EXPECT_EQ(cfg.llm_base_url, "http://127.0.0.1:1/v1");
  ASSERT_EQ(cfg.dialplan.size(), 1u);
  EXPECT_EQ(cfg.dialplan[0].match, "2xxx");
  EXPECT_EQ(cfg.dialplan[0].flow, "menu");
  EXPECT_TRUE(cfg.audiosocket_listen.empty());
}

TEST(ConfigEnv, OtherVariablesAreLeftAlone) {
  Config cfg;
  const auto applied = apply_environment({{"ATENDE_TOKEN", "secret"},
                                          {"ATENDE_CRM_TOKEN", "x"},
                                          {"ATENDE_CONFIG", "/nope.yaml"},
                                          {"ATENDE_sip_listen", "1.2.3.4:1"},  // not the rule's
                                          {"SIP_LISTEN", "1.2.3.4:1"},
                                          {"PATH", "/usr/bin"}},
                                         cfg);
  EXPECT_TRUE(applied.empty());
  EXPECT_EQ(cfg.sip_listen.str(), Config{}.sip_listen.str());
}

TEST(ConfigEnv, BadValuesNameTheVariable) {
  Config cfg;
  EXPECT_NE(error_of([&] {
              apply_environment({{"ATENDE_MAX_CALLS", "lots"}}, cfg);
            }).find("ATENDE_MAX_CALLS: 'lots' is not a whole number"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              apply_environment({{"ATENDE_HTTP_LISTEN", "nowhere"}}, cfg);
            }).find("ATENDE_HTTP_LISTEN"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              apply_environment({{"ATENDE_DIALPLAN", "[{match: 1"}}, cfg);
            }).find("ATENDE_DIALPLAN: not valid YAML"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              apply_environment({{"ATENDE_TRUNKS", "just text"}}, cfg);
            }).find("ATENDE_TRUNKS"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              apply_environment({{"ATENDE_SIP_TLS_VERIFY_SERVER", "maybe"}}, cfg);
            }).find("must be true or false"),
            std::string::npos);
}

TEST(ConfigEnv, EnvironmentOverridesTheFileWhichOverridesDefaults) {
  const auto file = write_temp("http_listen: 127.0.0.1:7000\nmax_calls: 5\nring_ms: 100\n");
  Config cfg;
  load_file_and_environment(file, {{"ATENDE_MAX_CALLS", "9"}, {"ATENDE_DRAIN_SECONDS", "3"}}, cfg);
  EXPECT_EQ(cfg.http_listen.port, 7000);               // file only
  EXPECT_EQ(cfg.max_calls, 9);                         // env beats file
  EXPECT_EQ(cfg.ring_ms, 100);                         // file only
  EXPECT_EQ(cfg.drain_seconds, 3);                     // env only
  EXPECT_EQ(cfg.rtp_port_min, Config{}.rtp_port_min);  // neither: default
  EXPECT_EQ(cfg.config_path, file);
  std::filesystem::remove(file);
}

TEST(ConfigEnv, ConfigFileFromTheEnvironmentUnlessGivenAsFlag) {
  const auto from_env = write_temp("max_calls: 7\n");
  Config a;
  load_file_and_environment("", {{"ATENDE_CONFIG", from_env}}, a);
  EXPECT_EQ(a.max_calls, 7);
  EXPECT_EQ(a.config_path, from_env);

  Config b;
  EXPECT_NE(error_of([&] {
              load_file_and_environment("/no/such.yaml", {{"ATENDE_CONFIG", from_env}}, b);
            }).find("/no/such.yaml"),
            std::string::npos);
  std::filesystem::remove(from_env);
}

TEST(ConfigEnv, DataDirForTheDatabaseCommandsReadsOnlyThatKey) {
  // The other key names a secret that is not set: only data_dir is read, so no error.
  const auto file = write_temp(
      "data_dir: /from/file\napi_tokens: [{name: a, token: \"${ATENDE_TEST_UNSET_X}\"}]\n");
  EXPECT_EQ(resolve_data_dir(std::nullopt, file, {}), "/from/file");
  EXPECT_EQ(resolve_data_dir(std::nullopt, "", {{"ATENDE_CONFIG", file}}), "/from/file");
  EXPECT_EQ(resolve_data_dir(std::nullopt, file, {{"ATENDE_DATA_DIR", "/from/env"}}), "/from/env");
  EXPECT_EQ(resolve_data_dir("/from/flag", file, {{"ATENDE_DATA_DIR", "/from/env"}}), "/from/flag");
  EXPECT_EQ(resolve_data_dir(std::nullopt, "", {}), Config{}.data_dir);
  EXPECT_NE(
      error_of([] { resolve_data_dir(std::nullopt, "/no/such.yaml", {}); }).find("/no/such.yaml"),
      std::string::npos);
  std::filesystem::remove(file);
}

TEST(ConfigEnv, TheProcessEnvironmentIsRead) {
  ::setenv("ATENDE_TEST_ONLY_VARIABLE", "value=with=equals", 1);
  const auto env = process_environment();
  ASSERT_TRUE(env.count("ATENDE_TEST_ONLY_VARIABLE"));
  EXPECT_EQ(env.at("ATENDE_TEST_ONLY_VARIABLE"), "value=with=equals");
  ::unsetenv("ATENDE_TEST_ONLY_VARIABLE");
}

}  // namespace
}  // namespace atende
