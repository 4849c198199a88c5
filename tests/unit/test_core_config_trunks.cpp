// trunks: and dialplan: of the config file: the documented example loads; bad entries are
// errors that name the entry and the problem; ${ENV} passwords.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "core/config.h"
#include "test_core_config_file.h"

namespace atende {
namespace {

using testing::config_error;
using testing::write_config_text;

TEST(ConfigTrunks, DocumentedExampleLoads) {
  setenv("PBX_PASSWORD", "pbx-secret", 1);
  setenv("CARRIER_PASSWORD", "carrier-secret", 1);
  Config c;
  load_config_file(std::string(ATENDE_SOURCE_DIR) + "/docs/examples/trunks.yaml", c);
  EXPECT_NO_THROW(validate_config(c));
  ASSERT_EQ(c.trunks.size(), 2u);
  EXPECT_EQ(c.trunks[0].name, "pbx");
  EXPECT_EQ(c.trunks[0].password, "pbx-secret");
  EXPECT_TRUE(c.trunks[0].register_account);
  EXPECT_EQ(c.trunks[0].inbound, "ivr");
  EXPECT_TRUE(c.trunks[1].is_default);
  EXPECT_EQ(c.trunks[1].user, "5511999990000");
  ASSERT_EQ(c.dialplan.size(), 3u);
  EXPECT_EQ(c.dialplan[0].persona, "sales");
  EXPECT_EQ(c.dialplan[1].trunk, "pbx");
}

TEST(ConfigTrunks, BadEntriesNameTheProblem) {
  EXPECT_NE(config_error("trunks: [{host: a}]").find("needs a name"), std::string::npos);
  EXPECT_NE(config_error("trunks: [{name: a}]").find("needs a host"), std::string::npos);
  EXPECT_NE(config_error("trunks: [{name: a, host: b, transport: sctp}]").find("udp, tcp or tls"),
            std::string::npos);
  EXPECT_NE(config_error("trunks: [{name: a, host: b, register: true}]").find("needs a user"),
            std::string::npos);
  EXPECT_NE(config_error("trunks: [{name: a, host: b, colour: red}]").find("colour"),
            std::string::npos);
  EXPECT_NE(config_error("trunks: [{name: a, host: b}, {name: a, host: c}]").find("twice"),
            std::string::npos);
  EXPECT_NE(config_error("trunks: [{name: a, host: b, password: '${ATENDE_NOT_SET_123}'}]")
                .find("ATENDE_NOT_SET_123"),
            std::string::npos);
  EXPECT_NE(config_error("dialplan: [{match: '1', flow: a, trunk: b}]").find("exactly one"),
            std::string::npos);
  EXPECT_NE(config_error("dialplan: [{match: '1', trunk: nope}]").find("nope"), std::string::npos);
  EXPECT_NE(config_error("trunks: [{name: a, host: b, default: true}, {name: c, host: d, "
                         "default: true}]")
                .find("more than one"),
            std::string::npos);
}

}  // namespace
}  // namespace atende

namespace atende {
namespace {

TEST(ConfigTrunks, RtpLatchPerTrunk) {
  Config c;
  load_config_file(write_config_text("trunks: [{name: a, host: 192.0.2.1, rtp_latch: nat}, "
                                     "{name: b, host: 192.0.2.2}]\n"),
                   c);
  ASSERT_EQ(c.trunks.size(), 2u);
  EXPECT_EQ(c.trunks[0].rtp_latch, "nat");
  EXPECT_EQ(c.trunks[1].rtp_latch, "");  // the server's
  EXPECT_NE(config_error("trunks: [{name: a, host: h, rtp_latch: first}]").find("strict or nat"),
            std::string::npos);
}

}  // namespace
}  // namespace atende
