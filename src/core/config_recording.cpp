#include "core/config_recording.h"

#include <stdexcept>

#include "core/config.h"
#include "core/config_sections.h"

namespace atende {

namespace {

bool yaml_bool(const YAML::Node& v, const std::string& what) {
  if (v.IsScalar()) {
    const std::string s = v.Scalar();
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  throw std::invalid_argument(what + ": must be true or false");
}

}  // namespace

RecordingConfig parse_recording_config(const std::string& ctx, const YAML::Node& node) {
  RecordingConfig c;
  if (node.IsNull()) return c;
  if (!node.IsMap()) {
    throw ConfigError(ctx + ": expected a map {audio, transcript, channels, retention_days}");
  }
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const std::string where = ctx + "." + key + config_where(kv.second);
    try {
      if (key == "audio") {
        c.audio = yaml_bool(kv.second, where);
      } else if (key == "transcript") {
        c.transcript = yaml_bool(kv.second, where);
      } else if (key == "channels") {
        const std::string v = config_scalar(where, kv.second);
        if (v != "stereo" && v != "mixed") throw ConfigError(where + ": must be stereo or mixed");
        c.stereo = v == "stereo";
      } else if (key == "retention_days") {
        c.retention_days = config_int(where, config_scalar(where, kv.second), 0, 36500);
      } else {
        throw ConfigError(where + ": unknown key (audio, transcript, channels, retention_days)");
      }
    } catch (const std::invalid_argument& e) {
      throw ConfigError(e.what());
    }
  }
  return c;
}

RecordingSwitches parse_recording_switches(const YAML::Node& node) {
  RecordingSwitches s;
  if (!node.IsMap()) {
    throw std::invalid_argument(
        "recording: must be a map {audio: true|false, transcript: "
        "true|false}");
  }
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (key == "audio") {
      s.audio = yaml_bool(kv.second, "recording.audio");
    } else if (key == "transcript") {
      s.transcript = yaml_bool(kv.second, "recording.transcript");
    } else {
      throw std::invalid_argument("recording: unknown key '" + key.substr(0, 40) +
                                  "' (audio, transcript)");
    }
  }
  return s;
}

}  // namespace atende
