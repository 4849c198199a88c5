// Persona YAML: the shipped personas load, the docs example loads, and bad files are
// refused with errors that name the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "agent/persona.h"

namespace atende::agent {
namespace {

std::string error_of(const std::string& yaml) {
  try {
    parse_persona(yaml);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

const std::string kMinimal = "name: bot\nsystem_prompt: Be brief.\n";

TEST(Persona, ShippedPersonasLoad) {
  PersonaLibrary lib;
  auto errors = lib.load_dir(std::string(ATENDE_SOURCE_DIR) + "/personas");
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(lib.personas().size(), 3u);
  const Persona* r = lib.resolve("Restaurant");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->name, "restaurante");
  EXPECT_EQ(r->settings.language, "pt-br");
  EXPECT_EQ(r->settings.tools.size(), 2u);
  ASSERT_NE(lib.resolve("sales"), nullptr);
  EXPECT_EQ(lib.resolve("sales")->settings.no_input, Millis(8000));
  EXPECT_EQ(lib.resolve("ivr"), nullptr);
}

TEST(Persona, DocsExampleLoads) {
  // The first ```yaml block of docs/agent.md.
  std::ifstream in(std::string(ATENDE_SOURCE_DIR) + "/docs/agent.md");
  std::stringstream buf;
  buf << in.rdbuf();
  std::smatch m;
  std::string doc = buf.str();
  ASSERT_TRUE(std::regex_search(doc, m, std::regex("```yaml\n([^`]*)```")));
  Persona p = parse_persona(m[1].str());
  EXPECT_EQ(p.name, "pizzaria");
  EXPECT_EQ(p.providers.llm_model, "llama3.1");
  EXPECT_EQ(p.providers.stt_engine, "http");
}

TEST(Persona, Defaults) {
  Persona p = parse_persona(kMinimal);
  EXPECT_EQ(p.settings.language, "en");
  EXPECT_EQ(p.settings.voice.name, "en-us");
  EXPECT_TRUE(p.settings.tools.empty());
  EXPECT_FALSE(p.settings.temperature);
  EXPECT_EQ(parse_persona(kMinimal + "language: pt-br\n").settings.voice.name, "pt-br");
}

TEST(Persona, ErrorsNameTheKey) {
  EXPECT_EQ(error_of("system_prompt: x\n"), "name: missing");
  EXPECT_EQ(error_of("name: bot\n"), "system_prompt: missing");
  EXPECT_EQ(error_of(kMinimal + "colour: red\n"), "colour: unknown key");
  EXPECT_EQ(error_of(kMinimal + "temperature: 3\n"), "temperature: must be within 0..2");
  EXPECT_EQ(error_of(kMinimal + "temperature: hot\n"), "temperature: must be a number");
  EXPECT_NE(error_of(kMinimal + "tools: [fly]\n").find("unknown tool 'fly'"), std::string::npos);
  EXPECT_EQ(error_of(kMinimal + "llm: {modle: x}\n"), "llm.modle: unknown key");
  EXPECT_EQ(error_of(kMinimal + "stt: {engine: vosk}\n"),
            "stt.engine: 'vosk' is not http, sphinx, openai_realtime_stt or ws_stream");
  EXPECT_NE(error_of("name: Bad Name\nsystem_prompt: x\n").find("name:"), std::string::npos);
  EXPECT_NE(error_of("name: [unclosed\n").find("yaml:"), std::string::npos);
  EXPECT_EQ(error_of("- a list\n"), "persona: must be a YAML map");
}

TEST(Persona, DirectoryReportsBadFilesAndDuplicates) {
  auto dir = std::filesystem::temp_directory_path() / ("personas-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.yaml") << "name: a\naliases: [x]\nsystem_prompt: p\n";
  std::ofstream(dir / "b.yaml") << "name: x\nsystem_prompt: p\n";  // clashes with a's alias
  std::ofstream(dir / "c.yaml") << "name: c\n";
  std::ofstream(dir / "notes.txt") << "ignored";
  PersonaLibrary lib;
  auto errors = lib.load_dir(dir.string());
  std::filesystem::remove_all(dir);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "b.yaml: name: 'x' is already used by another persona");
  EXPECT_EQ(errors[1], "c.yaml: system_prompt: missing");
  EXPECT_EQ(lib.personas().size(), 1u);
  EXPECT_NE(lib.resolve("X"), nullptr);
  EXPECT_TRUE(PersonaLibrary().load_dir("/nonexistent").empty());
}

TEST(Persona, ProvidersMerge) {
  AgentProviders server{.llm_base_url = "http://a", .llm_model = "m1", .tts_engine = "espeak"};
  AgentProviders mine{.llm_model = "m2", .tts_engine = "http"};
  auto m = server.merged(mine);
  EXPECT_EQ(m.llm_base_url, "http://a");
  EXPECT_EQ(m.llm_model, "m2");
  EXPECT_EQ(m.tts_engine, "http");
}

}  // namespace
}  // namespace atende::agent

namespace atende::agent {
namespace {

TEST(Persona, RecordingSwitches) {
  Persona p = parse_persona(kMinimal + "recording: {audio: false, transcript: true}\n");
  EXPECT_EQ(p.recording.audio, std::optional<bool>(false));
  EXPECT_EQ(p.recording.transcript, std::optional<bool>(true));
  EXPECT_FALSE(parse_persona(kMinimal).recording.audio.has_value());
  EXPECT_NE(error_of(kMinimal + "recording: {video: true}\n").find("recording"), std::string::npos);
  EXPECT_NE(error_of(kMinimal + "recording: yes\n").find("recording"), std::string::npos);
}

}  // namespace
}  // namespace atende::agent
