// The TLS and SRTP settings: defaults, the file keys, and the cross-checks (a key without a
// certificate, an unknown policy, a TLS trunk without the TLS transport).
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "core/config.h"
#include "test_core_config_file.h"

namespace atende {
namespace {

using testing::config_error;
using testing::load_config_text;

TEST(ConfigTls, DefaultsAreOptionalPlainAndRequiredOverTls) {
  Config c;
  EXPECT_EQ(c.srtp, "optional");
  EXPECT_EQ(c.sip_tls_srtp, "required");
  EXPECT_TRUE(c.sip_tls_certificate.empty());
  EXPECT_TRUE(c.sip_tls_verify_server);
  EXPECT_NO_THROW(validate_config(c));
}

TEST(ConfigTls, FileKeys) {
  auto c = load_config_text(
      "srtp: required\nsip_tls_certificate: /etc/a.crt\nsip_tls_key: /etc/a.key\n"
      "sip_tls_listen: 127.0.0.1:5071\nsip_tls_ca: /etc/ca.pem\nsip_tls_srtp: optional\n"
      "sip_tls_verify_server: false\n"
      "trunks:\n  - {name: t, host: pbx.example.com, transport: tls, srtp: required}\n");
  EXPECT_EQ(c.srtp, "required");
  EXPECT_EQ(c.sip_tls_certificate, "/etc/a.crt");
  EXPECT_EQ(c.sip_tls_key, "/etc/a.key");
  EXPECT_EQ(c.sip_tls_listen.port, 5071);
  EXPECT_EQ(c.sip_tls_ca, "/etc/ca.pem");
  EXPECT_EQ(c.sip_tls_srtp, "optional");
  EXPECT_FALSE(c.sip_tls_verify_server);
  ASSERT_EQ(c.trunks.size(), 1u);
  EXPECT_EQ(c.trunks[0].transport, "tls");
  EXPECT_EQ(c.trunks[0].port, 5061);  // the SIP-over-TLS port unless given
  EXPECT_EQ(c.trunks[0].srtp, "required");
}

TEST(ConfigTls, TrunkPortStaysWhenGiven) {
  auto c = load_config_text(
      "sip_tls_certificate: /a\nsip_tls_key: /b\n"
      "trunks:\n  - {name: t, host: h, port: 5071, transport: tls}\n");
  EXPECT_EQ(c.trunks[0].port, 5071);
  EXPECT_EQ(c.trunks[0].srtp, "off");
}

TEST(ConfigTls, MistakesNameTheSetting) {
  EXPECT_NE(config_error("srtp: maybe\n").find("srtp: 'maybe' must be off, optional or required"),
            std::string::npos);
  EXPECT_NE(config_error("sip_tls_srtp: yes\n").find("sip_tls_srtp"), std::string::npos);
  EXPECT_NE(config_error("sip_tls_certificate: /a\n").find("sip_tls_key"), std::string::npos);
  EXPECT_NE(config_error("sip_tls_key: /a\n").find("sip_tls_certificate"), std::string::npos);
  EXPECT_NE(config_error("sip_tls_listen: 0.0.0.0:5061\n").find("sip_tls_listen"),
            std::string::npos);
  EXPECT_NE(config_error("sip_tls_certificate: /a\nsip_tls_key: /b\nsip_listen: 0.0.0.0:5070\n"
                         "sip_tls_listen: 0.0.0.0:5070\n")
                .find("same port"),
            std::string::npos);
  EXPECT_NE(config_error("trunks:\n  - {name: t, host: h, transport: tls}\n")
                .find("'t' uses transport tls"),
            std::string::npos);
  EXPECT_NE(
      config_error("trunks:\n  - {name: t, host: h, transport: sctp}\n").find("udp, tcp or tls"),
      std::string::npos);
  EXPECT_NE(config_error("trunks:\n  - {name: t, host: h, srtp: on}\n").find("srtp 'on'"),
            std::string::npos);
  EXPECT_NE(config_error("sip_tls_verify_server: sometimes\n").find("sip_tls_verify_server"),
            std::string::npos);
}

}  // namespace
}  // namespace atende
