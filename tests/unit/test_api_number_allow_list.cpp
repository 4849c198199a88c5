// Destinations are normalised before matching, and each pattern form matches what the docs
// say and nothing more. An empty list allows nothing.
#include <gtest/gtest.h>

#include "api/number_allow_list.h"

namespace atende::api {
namespace {

std::string norm(std::string_view raw) {
  std::string error;
  auto n = normalize_destination(raw, error);
  return n ? *n : "ERROR: " + error;
}

bool allowed(const std::vector<std::string>& patterns, std::string_view raw) {
  std::string error;
  auto n = normalize_destination(raw, error);
  EXPECT_TRUE(n) << raw << ": " << error;
  return n && NumberAllowList::compile(patterns).allows(*n);
}

TEST(NormalizeDestination, StripsFormattingAndKeepsDialCharacters) {
  EXPECT_EQ(norm("+55 (11) 99999-0000"), "+5511999990000");
  EXPECT_EQ(norm("2302"), "2302");
  EXPECT_EQ(norm("11.2222.3333"), "1122223333");
  EXPECT_EQ(norm("*21#"), "*21#");
  EXPECT_EQ(norm("SIP:support@pbx.example.com"), "sip:support@pbx.example.com");
  EXPECT_EQ(norm("sips:Bob@Example.com"), "sips:Bob@Example.com");
}

TEST(NormalizeDestination, RefusesAnythingElseWithoutEchoingIt) {
  for (const char* bad : {"", "+", " - ", "12a4", "1+2", "++1", "tel:123", "12\n34", "0x10",
                          "sip:", "sip:a b@c", "sip:a\x01@c", "12;user=phone", "\xc3\xa9"}) {
    std::string error;
    EXPECT_FALSE(normalize_destination(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
    if (std::string_view(bad).size() > 2) {
      EXPECT_EQ(error.find(bad), std::string::npos) << error;
    }
  }
  std::string error;
  EXPECT_TRUE(normalize_destination(std::string(64, '1'), error));
  EXPECT_FALSE(normalize_destination(std::string(65, '1'), error));
  EXPECT_NE(error.find("64"), std::string::npos);
  EXPECT_FALSE(normalize_destination("sip:" + std::string(300, 'a'), error));
}

TEST(NumberAllowList, EmptyListAllowsNothing) {
  EXPECT_TRUE(NumberAllowList().empty());
  EXPECT_FALSE(NumberAllowList().allows("2302"));
  EXPECT_FALSE(allowed({}, "+5511999990000"));
}

TEST(NumberAllowList, ExactNumber) {
  EXPECT_TRUE(allowed({"2302"}, "2302"));
  EXPECT_TRUE(allowed({"23-02"}, "2302"));  // patterns are normalised too
  EXPECT_FALSE(allowed({"2302"}, "23020"));
  EXPECT_FALSE(allowed({"2302"}, "230"));
  EXPECT_FALSE(allowed({"2302"}, "+2302"));
}

TEST(NumberAllowList, TrailingStarIsAPrefix) {
  const std::vector<std::string> p{"+5511*"};
  EXPECT_TRUE(allowed(p, "+55 11 99999-0000"));
  EXPECT_TRUE(allowed(p, "+5511"));
  EXPECT_FALSE(allowed(p, "+5521999990000"));
  EXPECT_FALSE(allowed(p, "5511999990000"));  // '+' is significant
  EXPECT_FALSE(allowed(p, "sip:+5511999@x"));
}

TEST(NumberAllowList, XIsOneDigit) {
  const std::vector<std::string> p{"2xxx"};
  EXPECT_TRUE(allowed(p, "2000"));
  EXPECT_TRUE(allowed(p, "2999"));
  EXPECT_FALSE(allowed(p, "3000"));
  EXPECT_FALSE(allowed(p, "200"));
  EXPECT_FALSE(allowed(p, "20000"));
  EXPECT_FALSE(allowed(p, "2*00"));  // 'x' is a digit, not a key
  EXPECT_FALSE(allowed(p, "2#00"));
  EXPECT_TRUE(allowed({"+55XX9*"}, "+5511912345678"));
}

TEST(NumberAllowList, StarInsideIsAKeyAndLoneStarIsEveryNumber) {
  EXPECT_TRUE(allowed({"*21#"}, "*21#"));
  EXPECT_FALSE(allowed({"*21#"}, "121#"));
  EXPECT_TRUE(allowed({"*"}, "+4420123456"));
  EXPECT_TRUE(allowed({"*"}, "*21#"));
  EXPECT_FALSE(allowed({"*"}, "sip:anyone@example.com"));  // URIs only by name
}

TEST(NumberAllowList, SipUrisMatchExactly) {
  const std::vector<std::string> p{"sip:support@pbx.example.com"};
  EXPECT_TRUE(allowed(p, "sip:support@pbx.example.com"));
  EXPECT_TRUE(allowed(p, "SIP:support@pbx.example.com"));  // scheme is case-insensitive
  EXPECT_FALSE(allowed(p, "sip:support@pbx.example.com;transport=tcp"));
  EXPECT_FALSE(allowed(p, "sip:sales@pbx.example.com"));
  EXPECT_FALSE(allowed(p, "sips:support@pbx.example.com"));
  EXPECT_FALSE(allowed({"2302"}, "sip:2302@pbx"));
}

TEST(NumberAllowList, SeveralPatternsAnyMatches) {
  const std::vector<std::string> p{"2302", "+5511*", "sip:a@b"};
  EXPECT_TRUE(allowed(p, "2302"));
  EXPECT_TRUE(allowed(p, "+551100"));
  EXPECT_TRUE(allowed(p, "sip:a@b"));
  EXPECT_FALSE(allowed(p, "2303"));
}

TEST(NumberAllowList, BadPatternsAreRefusedByName) {
  for (const char* bad : {"", "abc", "12+3", "+55y*", "sip:", "sip:a b"}) {
    try {
      NumberAllowList::compile({bad});
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos)
          << e.what();
    }
  }
  // "**" is the '*' key then the prefix wildcard: a legal, if odd, pattern.
  EXPECT_TRUE(NumberAllowList::compile({"**"}).allows("*123"));
  EXPECT_FALSE(NumberAllowList::compile({"**"}).allows("123"));
}

}  // namespace
}  // namespace atende::api

namespace atende::api {
TEST(NumberAllowList, SipUriPrefixOnlyWithATrailingStar) {
  auto list = NumberAllowList::compile({"sip:support@*"});
  std::string error;
  EXPECT_TRUE(list.allows(*normalize_destination("sip:support@pbx.example.com", error)));
  EXPECT_FALSE(list.allows(*normalize_destination("sip:sales@pbx.example.com", error)));
  EXPECT_FALSE(list.allows(*normalize_destination("2302", error)));  // numbers need their own
  auto any = NumberAllowList::compile({"SIP:*"});
  EXPECT_TRUE(any.allows(*normalize_destination("sip:x@10.0.0.1:5060", error)));
  EXPECT_FALSE(any.allows(*normalize_destination("+5511999990000", error)));
}
}  // namespace atende::api
