// `recording:` (docs/recording.md): the server's section and the switches a flow or a
// persona carries, how they combine, and the errors that name the key.
#include <gtest/gtest.h>

#include "core/config.h"
#include "core/config_recording.h"

namespace atende {
namespace {

TEST(ConfigRecording, OffByDefault) {
  Config cfg;
  EXPECT_FALSE(cfg.recording.audio);
  EXPECT_FALSE(cfg.recording.transcript);
  EXPECT_TRUE(cfg.recording.stereo);
  EXPECT_EQ(cfg.recording.retention_days, 0);
}

TEST(ConfigRecording, SectionParsed) {
  Config cfg;
  const YAML::Node n =
      YAML::Load("{audio: true, transcript: yes, channels: mixed, retention_days: 30}");
  ASSERT_TRUE(apply_config_key("f: recording", "f: recording", "recording", n, cfg));
  EXPECT_TRUE(cfg.recording.audio);
  EXPECT_TRUE(cfg.recording.transcript);
  EXPECT_FALSE(cfg.recording.stereo);
  EXPECT_EQ(cfg.recording.retention_days, 30);
  EXPECT_TRUE(is_config_section("recording"));
}

TEST(ConfigRecording, ErrorsNameTheKey) {
  auto error = [](const std::string& yaml) -> std::string {
    try {
      Config cfg;
      apply_config_key("f: recording", "f: recording", "recording", YAML::Load(yaml), cfg);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error("{audio: maybe}").find("recording.audio"), std::string::npos);
  EXPECT_NE(error("{channels: quad}").find("stereo or mixed"), std::string::npos);
  EXPECT_NE(error("{retention_days: -1}").find("retention_days"), std::string::npos);
  EXPECT_NE(error("{video: true}").find("unknown key"), std::string::npos);
  EXPECT_NE(error("[1, 2]").find("expected a map"), std::string::npos);
}

TEST(ConfigRecording, SwitchesOverrideTheServer) {
  const RecordingConfig server{.audio = true, .transcript = false};
  EXPECT_TRUE(resolve_recording(server, {}).audio);
  const RecordingSwitches transcript_only =
      parse_recording_switches(YAML::Load("{audio: false, transcript: true}"));
  const RecordingPolicy p = resolve_recording(server, transcript_only);
  EXPECT_FALSE(p.audio);
  EXPECT_TRUE(p.transcript);
  EXPECT_THROW(parse_recording_switches(YAML::Load("true")), std::invalid_argument);
  EXPECT_THROW(parse_recording_switches(YAML::Load("{sound: true}")), std::invalid_argument);
}

}  // namespace
}  // namespace atende
