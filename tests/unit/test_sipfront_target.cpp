// What a call we place turns into in SIP: request URI, From, proxy, credentials; and the
// clear refusals for what cannot be dialled.
#include <gtest/gtest.h>

#include "sipfront/sip_target.h"

namespace atende::sipfront {
namespace {

sessions::DialPlan plan() {
  TrunkConfig pbx;
  pbx.name = "pbx";
  pbx.host = "10.0.0.5";
  pbx.port = 5070;
  pbx.transport = "tcp";
  pbx.user = "atende";
  pbx.password = "pw";
  pbx.from_display = "Gate";
  pbx.outbound_proxy = "sip:sbc:5060";
  pbx.is_default = true;
  return sessions::DialPlan({}, {pbx});
}

TEST(SipTarget, NumberThroughTheDefaultTrunk) {
  auto t = resolve_sip_target("2302", "", "", plan(), "192.0.2.1");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t.value().request_uri, "sip:2302@10.0.0.5:5070;transport=tcp");
  EXPECT_EQ(t.value().from_uri, "sip:atende@10.0.0.5");
  EXPECT_EQ(t.value().from_display, "Gate");
  EXPECT_EQ(t.value().outbound_proxy, "sip:sbc:5060");
  EXPECT_EQ(t.value().credentials.user, "atende");
  EXPECT_EQ(t.value().trunk, "pbx");
}

TEST(SipTarget, CallerIdReplacesTheFromUserAndHashIsEscaped) {
  auto t = resolve_sip_target("*43#", "", "+551130000000", plan(), "192.0.2.1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t.value().request_uri, "sip:*43%23@10.0.0.5:5070;transport=tcp");
  EXPECT_EQ(t.value().from_uri, "sip:+551130000000@10.0.0.5");
}

TEST(SipTarget, UriWithoutTrunk) {
  auto t =
      resolve_sip_target("sip:bob@198.51.100.7:5062", "", "", sessions::DialPlan(), "192.0.2.1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t.value().request_uri, "sip:bob@198.51.100.7:5062");
  EXPECT_EQ(t.value().from_uri, "sip:atende@192.0.2.1");
  EXPECT_TRUE(t.value().credentials.empty());
}

TEST(SipTarget, RefusalsNameTheProblem) {
  const sessions::DialPlan none;
  EXPECT_NE(resolve_sip_target("2302", "", "", none, "h").error().message.find("no trunk"),
            std::string::npos);
  EXPECT_NE(resolve_sip_target("2302", "nope", "", plan(), "h").error().message.find("nope"),
            std::string::npos);
  for (const char* bad : {"", "23 02", "sip:a b@c", "sip:nohost", "sip:a@b>x", "2302;evil"}) {
    EXPECT_FALSE(resolve_sip_target(bad, "", "", plan(), "h")) << bad;
  }
  EXPECT_FALSE(resolve_sip_target(std::string(300, '1'), "", "", plan(), "h"));
  EXPECT_FALSE(resolve_sip_target("2302", "", "a\"b", plan(), "h"));
}

}  // namespace
}  // namespace atende::sipfront
