// The `http_tools:` of a persona: parsing, validation errors that name the key, environment
// references, and the YAML -> JSON Schema conversion.
#include <gtest/gtest.h>

#include <map>

#include "agent/persona.h"
#include "agent/persona_tools.h"

namespace atende::agent {
namespace {

using nlohmann::json;

const std::map<std::string, std::string> kEnv{{"TOOLS_URL", "http://127.0.0.1:9/api"},
                                              {"TOOLS_KEY", "s3cret"}};
const char* fake_env(const char* name) {
  auto it = kEnv.find(name);
  return it == kEnv.end() ? nullptr : it->second.c_str();
}

PersonaHttpTools parse(const std::string& yaml) {
  return parse_http_tools(YAML::Load(yaml), {"end_call"}, fake_env);
}

std::string error_of(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(PersonaTools, ParsesAToolWithSchemaHeadersAndEnvironment) {
  const auto t = parse(R"(
- name: check_availability
  description: Whether a table is free.
  parameters:
    type: object
    properties:
      date: {type: string, description: "YYYY-MM-DD"}
      people: {type: integer, minimum: 1, maximum: 20}
      terrace: {type: boolean, default: false}
      note: {type: string, default: "123"}
    required: [date, people]
  url: "${TOOLS_URL}/availability"
  headers: {Authorization: "Bearer ${TOOLS_KEY}", X-Source: atende}
  timeout_ms: 1500
  max_response_bytes: 1024
)");
  ASSERT_EQ(t.tools.size(), 1u);
  EXPECT_TRUE(t.disabled.empty());
  const llm::HttpTool& tool = t.tools[0];
  EXPECT_EQ(tool.spec.name, "check_availability");
  EXPECT_EQ(tool.spec.description, "Whether a table is free.");
  EXPECT_EQ(tool.spec.parameters, json::parse(R"({"type":"object","properties":{
      "date":{"type":"string","description":"YYYY-MM-DD"},
      "people":{"type":"integer","minimum":1,"maximum":20},
      "terrace":{"type":"boolean","default":false},
      "note":{"type":"string","default":"123"}},
      "required":["date","people"]})"));
  EXPECT_EQ(tool.url, "http://127.0.0.1:9/api/availability");
  ASSERT_EQ(tool.headers.size(), 2u);
  EXPECT_EQ(tool.headers[0],
            (std::pair<std::string, std::string>{"Authorization", "Bearer s3cret"}));
  EXPECT_EQ(tool.timeout.count(), 1500);
  EXPECT_EQ(tool.max_response_bytes, 1024u);
}

TEST(PersonaTools, DefaultsForOptionalKeys) {
  const auto t = parse("- {name: ping, description: Ping., url: 'https://example.com/p'}");
  ASSERT_EQ(t.tools.size(), 1u);
  EXPECT_EQ(t.tools[0].spec.parameters, json::parse(R"({"type":"object","properties":{}})"));
  EXPECT_EQ(t.tools[0].timeout.count(), 3000);
  EXPECT_EQ(t.tools[0].max_response_bytes, 8192u);
}

TEST(PersonaTools, UnsetEnvironmentTurnsTheToolOff) {
  const auto t = parse(R"(
- {name: a, description: A., url: "${NOT_SET_ANYWHERE}/a"}
- {name: b, description: B., url: "${TOOLS_URL}/b", headers: {X-Key: "${ALSO_NOT_SET}"}}
- {name: c, description: C., url: "${TOOLS_URL}/c"}
)");
  ASSERT_EQ(t.tools.size(), 1u);
  EXPECT_EQ(t.tools[0].spec.name, "c");
  EXPECT_EQ(t.disabled, (std::vector<std::string>{"a: NOT_SET_ANYWHERE is not set",
                                                  "b: ALSO_NOT_SET is not set"}));
}

TEST(PersonaTools, ErrorsNameTheKey) {
  EXPECT_EQ(error_of("{name: x}"), "http_tools: must be a list");
  EXPECT_EQ(error_of("- {description: D., url: 'http://h/'}"), "http_tools[0].name: missing");
  EXPECT_EQ(error_of("- {name: x, url: 'http://h/'}"),
            "http_tools[0].description: missing (the model needs it)");
  EXPECT_EQ(error_of("- {name: x, description: D.}"), "http_tools[0].url: missing");
  EXPECT_EQ(error_of("- {name: x, description: D., url: 'ftp://h/'}"),
            "http_tools[0].url: 'ftp://h/' is not an http:// or https:// URL");
  EXPECT_EQ(error_of("- {name: x, description: D., url: 'http://h/', method: GET}"),
            "http_tools[0].method: unknown key");
  EXPECT_EQ(error_of("- {name: end_call, description: D., url: 'http://h/'}"),
            "http_tools[0].name: 'end_call' is already a tool of this persona");
  EXPECT_EQ(error_of("- {name: x, description: D., url: 'http://h/'}\n"
                     "- {name: x, description: D., url: 'http://h/'}"),
            "http_tools[1].name: 'x' is already a tool of this persona");
  EXPECT_NE(error_of("- {name: 'bad name', description: D., url: 'http://h/'}").find("letters"),
            std::string::npos);
  EXPECT_NE(error_of("- {name: x, description: D., url: 'http://h/', parameters: {type: string}}")
                .find("\"type\": \"object\""),
            std::string::npos);
  EXPECT_EQ(error_of("- {name: x, description: D., url: 'http://h/', timeout_ms: 50}"),
            "http_tools[0].timeout_ms: must be within 100..30000");
  EXPECT_EQ(error_of("- {name: x, description: D., url: 'http://h/', timeout_ms: soon}"),
            "http_tools[0].timeout_ms: must be a whole number");
  EXPECT_EQ(error_of("- {name: x, description: D., url: 'http://h/', headers: {'a b': c}}"),
            "http_tools[0].headers.a b: not a valid header name");
  EXPECT_EQ(error_of("- {name: x, description: D., url: '${TOOLS_URL'}"),
            "http_tools[0].url: unclosed ${ in '${TOOLS_URL'");
  EXPECT_EQ(error_of("- {name: x, description: D., url: '${A-B}/x'}"),
            "http_tools[0].url: '${A-B}' is not an environment variable name");
}

TEST(PersonaTools, HostileSchemasAreBounded) {
  std::string deep =
      "- {name: x, description: D., url: 'http://h/', parameters: {type: object, p: ";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  deep += "}}";
  EXPECT_NE(error_of(deep).find("nested deeper"), std::string::npos) << error_of(deep);
}

TEST(PersonaTools, OddYamlIsAnErrorNotACrash) {
  // Keys that are not strings, in the persona and in a tool: always std::invalid_argument.
  for (const char* doc :
       {"? [a, b]\n: 1\n", "name: x\nsystem_prompt: y\nhttp_tools: [{? {a: 1}\n : 2}]\n",
        "name: x\nsystem_prompt: y\nhttp_tools: [{name: t, description: d, url: 'http://h/', "
        "parameters: {type: object, ? [1] : 2}}]\n",
        "name: x\nsystem_prompt: y\nhttp_tools: [{name: t, description: d, url: 'http://h/', "
        "headers: {? [1] : 2}}]\n"}) {
    EXPECT_THROW(parse_persona(doc), std::invalid_argument) << doc;
  }
  // Found by fuzz_agent_persona: a schema type that is not a string ("type: " is null).
  EXPECT_NE(error_of("- {name: x, description: d, url: 'http://h/', parameters: {type: }}")
                .find("\"type\": \"object\""),
            std::string::npos);
  // Found by fuzz_agent_persona: invalid UTF-8 in a schema loads (replaced when sent).
  const auto t = parse(
      "- {name: x, description: d, url: 'http://h/', "
      "parameters: {type: object, properties: {\xff\xff: {type: string}}}}");
  ASSERT_EQ(t.tools.size(), 1u);
  EXPECT_EQ(t.tools[0].spec.parameters["properties"].size(), 1u);
}

TEST(PersonaTools, YamlToJsonKeepsQuotedStringsAndReadsPlainScalars) {
  const json j = yaml_to_json(YAML::Load(
      R"({a: 1, b: -2.5, c: true, d: null, e: "7", f: 1e3, g: 0x10, h: ~, i: [x, 'y'], j: yes})"));
  EXPECT_EQ(j, json::parse(R"({"a":1,"b":-2.5,"c":true,"d":null,"e":"7","f":1000.0,
                               "g":"0x10","h":null,"i":["x","y"],"j":"yes"})"));
}

TEST(PersonaTools, PersonaFileCarriesToolsAndDisabledOnes) {
  const Persona p = parse_persona(R"(
name: shop
system_prompt: You sell things.
wait: "Hold on."
http_tools:
  - {name: stock, description: Stock of an item., url: "http://127.0.0.1:1/stock"}
  - {name: order, description: Place an order., url: "${ATENDE_TEST_SURELY_UNSET}/order"}
)");
  ASSERT_EQ(p.settings.http_tools.size(), 1u);
  EXPECT_EQ(p.settings.http_tools[0].spec.name, "stock");
  EXPECT_EQ(p.settings.wait_text, "Hold on.");
  ASSERT_EQ(p.disabled_tools.size(), 1u);
  try {
    parse_persona("name: shop\nsystem_prompt: x\nhttp_tools: [{name: s}]\n");
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "http_tools[0].description: missing (the model needs it)");
  }
}

}  // namespace
}  // namespace atende::agent
