// The dial plan (inbound: which flow or persona; outbound: which trunk) and how a call we
// place becomes a SIP target.
#include <gtest/gtest.h>

#include "sessions/dial_plan.h"

namespace atende::sessions {
namespace {

TEST(DialPattern, ExactDigitsAndPrefix) {
  EXPECT_TRUE(dial_pattern_matches("2000", "2000"));
  EXPECT_FALSE(dial_pattern_matches("2000", "20001"));
  EXPECT_TRUE(dial_pattern_matches("2xxx", "2302"));
  EXPECT_FALSE(dial_pattern_matches("2xxx", "23a2"));
  EXPECT_FALSE(dial_pattern_matches("2xxx", "230"));
  EXPECT_TRUE(dial_pattern_matches("+55*", "+5511999990000"));
  EXPECT_TRUE(dial_pattern_matches("+55*", "+55"));
  EXPECT_FALSE(dial_pattern_matches("+55*", "+54"));
}

DialPlan plan() {
  TrunkConfig pbx;
  pbx.name = "pbx";
  pbx.host = "10.0.0.5";
  pbx.user = "atende";
  pbx.inbound = "ivr";
  TrunkConfig carrier;
  carrier.name = "carrier";
  carrier.host = "sip.carrier.example";
  carrier.is_default = true;
  return DialPlan({{"2000", "", "sales", ""}, {"2xxx", "", "", "pbx"}}, {pbx, carrier});
}

TEST(DialPlan, InboundByEntryThenTrunkAccount) {
  auto p = plan();
  EXPECT_EQ(p.inbound("2000").value_or(""), "sales");
  EXPECT_EQ(p.inbound("atende").value_or(""), "ivr");  // our registered account
  EXPECT_FALSE(p.inbound("2302"));                     // a trunk line is not a flow
}

TEST(DialPlan, OutboundByEntryThenDefault) {
  auto p = plan();
  EXPECT_EQ(p.trunk_for("2302"), "pbx");
  EXPECT_EQ(p.trunk_for("+5511999990000"), "carrier");
  EXPECT_EQ(DialPlan().trunk_for("2302"), "");
}

}  // namespace
}  // namespace atende::sessions
