#include <gtest/gtest.h>

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

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, HostPortForms) {
  EXPECT_EQ(parse_host_port("k", "127.0.0.1:5060").port, 5060);
  auto v6 = parse_host_port("k", "[::1]:5070");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 5070);
  EXPECT_EQ(v6.str(), "[::1]:5070");
  EXPECT_NE(error_of([] { parse_host_port("--sip-listen", "localhost"); }).find("--sip-listen"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_host_port("k", ":5060"); }).find("no host"), std::string::npos);
  EXPECT_NE(error_of([] { parse_host_port("k", "h:0"); }).find("out of range"), std::string::npos);
  EXPECT_NE(error_of([] { parse_host_port("k", "h:50x"); }).find("whole number"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_host_port("k", "[::1]5060"); }).find("IPv6"), std::string::npos);
}

TEST(Config, PortRange) {
  Config c;
  parse_port_range("r", "30000-30100", c);
  EXPECT_EQ(c.rtp_port_min, 30000);
  EXPECT_EQ(c.rtp_port_max, 30100);
  EXPECT_FALSE(error_of([&] { parse_port_range("r", "300-400", c); }).empty());
  EXPECT_FALSE(error_of([&] { parse_port_range("r", "40000-30000", c); }).empty());
  EXPECT_FALSE(error_of([&] { parse_port_range("r", "40000", c); }).empty());
}

TEST(Config, FileAppliesEveryKeyAndNamesBadOnesWithLine) {
  Config c;
  load_config_file(write_temp("atende-good.yaml",
                              "sip_listen: 127.0.0.1:5070\nhttp_listen: 127.0.0.1:9000\n"
                              "rtp_ports: 30000-30999\ndata_dir: /tmp/x\nmax_calls: 7\n"
                              "log_format: json\nring_ms: 250\ndrain_seconds: 3\n"),
                   c);
  EXPECT_EQ(c.sip_listen.port, 5070);
  EXPECT_EQ(c.http_listen.port, 9000);
  EXPECT_EQ(c.rtp_port_max, 30999);
  EXPECT_EQ(c.max_calls, 7);
  EXPECT_EQ(c.log_format, LogFormat::json);
  EXPECT_EQ(c.ring_ms, 250);
  EXPECT_EQ(c.drain_seconds, 3);

  auto err = error_of([] {
    Config c2;
    load_config_file(write_temp("atende-bad.yaml", "data_dir: ./d\nmax_calls: many\n"), c2);
  });
  EXPECT_NE(err.find("max_calls"), std::string::npos) << err;
  EXPECT_NE(err.find("line 2"), std::string::npos) << err;

  err = error_of([] {
    Config c2;
    load_config_file(write_temp("atende-typo.yaml", "max_cals: 3\n"), c2);
  });
  EXPECT_NE(err.find("max_cals"), std::string::npos);
  EXPECT_NE(err.find("unknown key"), std::string::npos);

  err = error_of([] {
    Config c2;
    load_config_file(write_temp("atende-broken.yaml", "a: [1, 2\n"), c2);
  });
  EXPECT_NE(err.find("atende-broken.yaml"), std::string::npos) << err;

  err = error_of([] {
    Config c2;
    load_config_file("/nonexistent/atende.yaml", c2);
  });
  EXPECT_NE(err.find("/nonexistent/atende.yaml"), std::string::npos);
}

TEST(Config, ShippedExampleLoads) {
  Config c;
  load_config_file(std::string(ATENDE_SOURCE_DIR) + "/docs/examples/atende.yaml", c);
  EXPECT_NO_THROW(validate_config(c));
  EXPECT_EQ(c.rtp_port_min, 30000);
  EXPECT_EQ(c.max_calls, 200);
}

TEST(Config, ValidateCatchesCrossFieldProblems) {
  Config c;
  EXPECT_NO_THROW(validate_config(c));
  c.log_level = "loud";
  EXPECT_NE(error_of([&] { validate_config(c); }).find("log_level"), std::string::npos);
}

}  // namespace
}  // namespace atende

namespace atende {
namespace {

TEST(Config, DeadPeerAndLatchKeys) {
  Config c;
  EXPECT_EQ(c.rtp_timeout_seconds, 30);
  EXPECT_EQ(c.rtp_latch, "strict");
  load_config_file(write_temp("atende-deadpeers.yaml",
                              "rtp_timeout_seconds: 5\nrtp_latch: nat\nsession_expires: 1800\n"
                              "session_min_se: 120\n"),
                   c);
  EXPECT_EQ(c.rtp_timeout_seconds, 5);
  EXPECT_EQ(c.rtp_latch, "nat");
  EXPECT_EQ(c.session_expires, 1800);
  EXPECT_EQ(c.session_min_se, 120);
  validate_config(c);
  EXPECT_NE(error_of([] {
              Config bad;
              load_config_file(write_temp("atende-latch.yaml", "rtp_latch: anyone\n"), bad);
            }).find("strict or nat"),
            std::string::npos);
  c.session_expires = 60;  // shorter than session_min_se
  EXPECT_NE(error_of([&] { validate_config(c); }).find("session_expires"), std::string::npos);
}

}  // namespace
}  // namespace atende
