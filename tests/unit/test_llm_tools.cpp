#include <gtest/gtest.h>

#include <future>

#include "llm/tools.h"
#include "test_llm_fake_openai.h"

namespace atende::llm {
namespace {

using nlohmann::json;

TEST(Tools, BuiltinSchemasAreValidOpenAiFunctions) {
  const auto tools = builtin_tools();
  ASSERT_EQ(tools.size(), 3u);
  for (const auto& t : tools) {
    EXPECT_EQ(validate_tool_spec(t), "") << t.name;
    EXPECT_TRUE(is_builtin_tool(t.name));
    EXPECT_FALSE(t.description.empty());
    const json j = to_json(t);
    EXPECT_EQ(j["type"], "function");
    EXPECT_EQ(j["function"]["parameters"]["type"], "object");
  }
  EXPECT_EQ(send_dtmf_tool().parameters["required"], json::array({"digits"}));
  EXPECT_EQ(transfer_to_human_tool().parameters["required"], json::array({"reason"}));
  EXPECT_FALSE(is_builtin_tool("weather"));
}

TEST(Tools, ValidateRejectsWhatOpenAiRejects) {
  EXPECT_NE(validate_tool_spec({"", "d", json::parse(R"({"type":"object"})")}), "");
  EXPECT_NE(validate_tool_spec({"has space", "d", json::parse(R"({"type":"object"})")}), "");
  EXPECT_NE(validate_tool_spec({std::string(65, 'a'), "d", json::parse(R"({"type":"object"})")}),
            "");
  EXPECT_NE(validate_tool_spec({"ok", "d", json::parse(R"({"type":"string"})")}), "");
  EXPECT_NE(validate_tool_spec({"ok", "d", json::array()}), "");
  EXPECT_EQ(validate_tool_spec({"get-slot_2", "d", json::parse(R"({"type":"object"})")}), "");
}

TEST(Tools, DtmfDigitsAreValidated) {
  EXPECT_EQ(dtmf_digits({"c", "send_dtmf", R"({"digits":"12*#AD"})"}), "12*#AD");
  EXPECT_FALSE(dtmf_digits({"c", "send_dtmf", R"({"digits":"12x"})"}));
  EXPECT_FALSE(dtmf_digits({"c", "send_dtmf", R"({"digits":""})"}));
  EXPECT_FALSE(dtmf_digits({"c", "send_dtmf", R"({"digits":1})"}));
  EXPECT_FALSE(dtmf_digits({"c", "send_dtmf", R"({"digits":")" + std::string(33, '1') + "\"}"}));
  EXPECT_FALSE(dtmf_digits({"c", "send_dtmf", "{broken"}));
}

TEST(Tools, StringArgumentIsBoundedOnACharacterBoundary) {
  EXPECT_EQ(string_argument({"c", "end_call", R"({"reason":"bye"})"}, "reason"), "bye");
  EXPECT_EQ(string_argument({"c", "end_call", R"({"reason":5})"}, "reason"), "");
  EXPECT_EQ(string_argument({"c", "end_call", R"({"reason":"ééé"})"}, "reason", 3), "é");
}

class HttpToolTest : public ::testing::Test {
 protected:
  ToolResult run(const HttpTool& tool, const ToolCall& call) {
    std::promise<ToolResult> p;
    auto f = p.get_future();
    HttpToolRunner(http).run(tool, call, [&](ToolResult r) { p.set_value(std::move(r)); });
    return f.get();
  }
  testing::FakeOpenAi fake;  // any HTTP server that answers will do: it logs what it got
  net::HttpClient http;
};

TEST_F(HttpToolTest, PostsArgumentsAsJsonAndReturnsTheBody) {
  HttpTool tool;
  tool.spec = {"lookup", "d", json::parse(R"({"type":"object"})")};
  tool.url = fake.base_url() + "/control/script";  // answers {"ok": true}
  tool.headers = {{"X-Api-Token", "t1"}};
  const ToolResult r = run(tool, {"c1", "lookup", R"({"chat":[]})"});
  ASSERT_TRUE(r.ok) << r.content;
  EXPECT_EQ(json::parse(r.content), json::parse(R"({"ok": true})"));
  EXPECT_EQ(r.http_status, 200);
}

TEST_F(HttpToolTest, FailuresBecomeAnErrorForTheModel) {
  HttpTool tool;
  tool.url = fake.base_url() + "/nowhere";  // 404
  ToolResult r = run(tool, {"c1", "x", "{}"});
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(json::parse(r.content).contains("error"));
  r = run(tool, {"c1", "x", "[1,2]"});  // not an object: never sent
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.http_status, 0);
  tool.max_response_bytes = 4;
  tool.url = fake.base_url() + "/control/script";
  r = run(tool, {"c1", "x", "{}"});  // {"ok": true} is over 4 bytes
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.content.find("larger than 4"), std::string::npos) << r.content;
}

}  // namespace
}  // namespace atende::llm
