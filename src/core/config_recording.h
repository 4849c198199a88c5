// Call recording's settings (docs/recording.md): the server-wide `recording:` section
// (defaults and retention) and the `recording:` map a flow or persona may carry to override
// what it records. Both keep the same two switches: `audio` (the WAV of the call) and
// `transcript` (the conversation's lines in the call record).
//
//   recording: {audio: false, transcript: false, channels: stereo, retention_days: 30}
#pragma once
#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

namespace atende {

struct RecordingConfig {
  bool audio = false;  // off by default: recordings are personal data
  bool transcript = false;
  bool stereo = true;      // "stereo": caller left, atende right; "mixed": one channel
  int retention_days = 0;  // 0: kept until deleted by hand
};

// A flow's or persona's `recording:`: unset switches take the server's.
struct RecordingSwitches {
  std::optional<bool> audio;
  std::optional<bool> transcript;
};

// What one call records.
struct RecordingPolicy {
  bool audio = false;
  bool transcript = false;
};

inline RecordingPolicy resolve_recording(const RecordingConfig& server,
                                         const RecordingSwitches& own) {
  return {own.audio.value_or(server.audio), own.transcript.value_or(server.transcript)};
}

// The server's section; throws ConfigError naming `ctx` and the key.
RecordingConfig parse_recording_config(const std::string& ctx, const YAML::Node& node);
// A flow's or persona's map {audio: bool, transcript: bool}; throws std::invalid_argument
// with "recording: ..." (the loaders turn it into their own error).
RecordingSwitches parse_recording_switches(const YAML::Node& node);

}  // namespace atende
