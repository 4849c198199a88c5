// The server config keys for agent providers: read from the file, engines validated.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/config.h"

namespace atende {
namespace {

std::string write(const std::string& text) {
  auto p = std::filesystem::temp_directory_path() /
           ("agent-config-" + std::to_string(getpid()) + ".yaml");
  std::ofstream(p) << text;
  return p.string();
}

TEST(AgentConfig, ProviderKeysAreRead) {
  Config cfg;
  auto path = write(
      "personas_dir: /srv/personas\nllm_base_url: http://127.0.0.1:8000\nllm_model: m\n"
      "llm_api_key_env: KEY\nstt_engine: http\nstt_base_url: http://s\nstt_model: w\n"
      "tts_engine: http\ntts_base_url: http://t\ntts_model: tm\ntts_voice: alloy\n");
  load_config_file(path, cfg);
  std::filesystem::remove(path);
  validate_config(cfg);
  EXPECT_EQ(cfg.personas_dir, "/srv/personas");
  EXPECT_EQ(cfg.llm_base_url, "http://127.0.0.1:8000");
  EXPECT_EQ(cfg.llm_model, "m");
  EXPECT_EQ(cfg.llm_api_key_env, "KEY");
  EXPECT_EQ(cfg.stt_engine, "http");
  EXPECT_EQ(cfg.stt_base_url, "http://s");
  EXPECT_EQ(cfg.stt_model, "w");
  EXPECT_EQ(cfg.tts_engine, "http");
  EXPECT_EQ(cfg.tts_base_url, "http://t");
  EXPECT_EQ(cfg.tts_model, "tm");
  EXPECT_EQ(cfg.tts_voice, "alloy");
}

TEST(AgentConfig, DefaultsLeaveAgentsUnconfigured) {
  Config cfg;
  validate_config(cfg);
  EXPECT_TRUE(cfg.llm_base_url.empty());
  EXPECT_TRUE(cfg.personas_dir.empty());
}

TEST(AgentConfig, UnknownEnginesAreRefused) {
  Config cfg;
  cfg.stt_engine = "vosk";
  EXPECT_THROW(validate_config(cfg), ConfigError);
  cfg.stt_engine = "sphinx";
  validate_config(cfg);
  cfg.tts_engine = "piper";
  try {
    validate_config(cfg);
    FAIL() << "accepted tts_engine piper";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("tts_engine"), std::string::npos);
  }
}

}  // namespace
}  // namespace atende
