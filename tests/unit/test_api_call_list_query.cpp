// GET /api/calls' query string: every parameter parsed, every bad one refused naming it.
#include <gtest/gtest.h>

#include "api/call_list_query.h"

namespace atende::api {
namespace {

using Query = std::map<std::string, std::string>;

std::string refusal(const Query& q) {
  std::string error;
  EXPECT_FALSE(parse_call_list_query(q, error).has_value());
  return error;
}

TEST(CallListQuery, DefaultsWithoutParameters) {
  std::string error;
  const auto q = parse_call_list_query({}, error);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->limit, 50);
  EXPECT_EQ(q->offset, 0);
  EXPECT_TRUE(q->before.empty());
  EXPECT_FALSE(q->since_ms);
  EXPECT_FALSE(q->until_ms);
}

TEST(CallListQuery, ReadsEveryParameter) {
  std::string error;
  const auto q = parse_call_list_query({{"limit", "20"},
                                        {"before", "c18f0a2b3c400001"},
                                        {"since", "2024-05-01T12:00:00Z"},
                                        {"until", "1714564800123"},
                                        {"flow", "menu"},
                                        {"outcome", "caller hangup"},
                                        {"direction", "outbound"},
                                        {"number", "+5511"}},
                                       error);
  ASSERT_TRUE(q) << error;
  EXPECT_EQ(q->limit, 20);
  EXPECT_EQ(q->before, "c18f0a2b3c400001");
  EXPECT_EQ(q->since_ms, 1714564800000);
  EXPECT_EQ(q->until_ms, 1714564800123);
  EXPECT_EQ(q->flow, "menu");
  EXPECT_EQ(q->outcome, "caller hangup");
  EXPECT_EQ(q->direction, "outbound");
  EXPECT_EQ(q->number, "+5511");
}

TEST(CallListQuery, RefusesBadValuesNamingTheParameter) {
  const std::pair<Query, const char*> cases[] = {
      {{{"limit", "0"}}, "'limit'"},
      {{{"limit", "1001"}}, "'limit'"},
      {{{"limit", "5x"}}, "'limit'"},
      {{{"offset", "-1"}}, "'offset'"},
      {{{"before", ""}}, "'before'"},
      {{{"before", "c1;drop"}}, "'before'"},
      {{{"before", std::string(300, 'c')}}, "'before'"},
      {{{"since", "yesterday"}}, "'since'"},
      {{{"since", "2024-13-01T00:00:00Z"}}, "'since'"},
      {{{"until", "2024-05-01T12:00:00+03:00"}}, "'until'"},
      {{{"until", "2024-05-01T12:00:00"}}, "'until'"},
      {{{"flow", ""}}, "'flow'"},
      {{{"flow", std::string("a\x01"
                             "b")}},
       "'flow'"},
      {{{"outcome", std::string(200, 'x')}}, "'outcome'"},
      {{{"direction", "sideways"}}, "'direction'"},
      {{{"number", "55-11"}}, "'number'"},
      {{{"number", "sip:alice"}}, "'number'"},
      {{{"number", std::string(33, '1')}}, "'number'"},
      {{{"sort", "asc"}}, "'sort'"},
  };
  for (const auto& [query, name] : cases) {
    const std::string error = refusal(query);
    EXPECT_NE(error.find(name), std::string::npos) << error;
  }
}

TEST(CallListQuery, TimesInBothForms) {
  EXPECT_EQ(parse_time_param("0"), 0);
  EXPECT_EQ(parse_time_param("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_time_param("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(parse_time_param("2024-05-01T12:00:00.123456Z"), 1714564800123);
  EXPECT_EQ(parse_time_param("2024-05-01T12:00:00+00:00"), 1714564800000);
  EXPECT_EQ(parse_time_param("2024-02-30T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_time_param("2024-05-01T12:00:00.Z"), std::nullopt);
  EXPECT_EQ(parse_time_param("9999999999999999"), std::nullopt);  // 16 digits
  EXPECT_EQ(parse_time_param(""), std::nullopt);
}

}  // namespace
}  // namespace atende::api
