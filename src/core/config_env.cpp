#include "core/config_env.h"

#include <cctype>

extern char** environ;

namespace atende {

std::string env_name(std::string_view key) {
  std::string out(kEnvPrefix);
  for (char c : key) {
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::optional<std::string> key_of_env(std::string_view name) {
  if (name.size() <= kEnvPrefix.size() || name.substr(0, kEnvPrefix.size()) != kEnvPrefix) {
    return std::nullopt;
  }
  std::string key;
  for (char c : name.substr(kEnvPrefix.size())) {
    key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return key;
}

Environment process_environment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

std::optional<std::string> env_config_file(const Environment& env) {
  auto it = env.find(env_name("config"));
  if (it == env.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::vector<std::string> apply_environment(const Environment& env, Config& cfg) {
  std::vector<std::string> applied;
  for (const auto& [name, value] : env) {
    const auto key = key_of_env(name);
    // Only names the rule produces: ATENDE_sip_listen is not ATENDE_SIP_LISTEN.
    if (!key || env_name(*key) != name) continue;
    YAML::Node node;
    if (is_config_section(*key)) {
      try {
        node = YAML::Load(value);
      } catch (const YAML::Exception& e) {
        throw ConfigError(name + ": not valid YAML: " + e.msg);
      }
    } else {
      node = YAML::Node(value);  // one value, taken as it is (no YAML parsing)
    }
    if (apply_config_key(name, name, *key, node, cfg)) applied.push_back(name);
  }
  return applied;
}

std::vector<std::string> load_file_and_environment(const std::string& config_flag,
                                                   const Environment& env, Config& cfg) {
  const std::string file = !config_flag.empty() ? config_flag : env_config_file(env).value_or("");
  if (!file.empty()) load_config_file(file, cfg);
  return apply_environment(env, cfg);
}

std::string resolve_data_dir(const std::optional<std::string>& flag, const std::string& config_flag,
                             const Environment& env) {
  if (flag) return *flag;
  if (auto it = env.find(env_name("data_dir")); it != env.end() && !it->second.empty()) {
    return it->second;
  }
  const std::string file = !config_flag.empty() ? config_flag : env_config_file(env).value_or("");
  if (!file.empty()) {
    YAML::Node root;
    try {
      root = YAML::LoadFile(file);
    } catch (const YAML::Exception& e) {
      throw ConfigError(file + ": " + e.msg);
    }
    if (root.IsMap() && root["data_dir"]) {
      const YAML::Node node = root["data_dir"];
      if (!node.IsScalar()) throw ConfigError(file + ": data_dir: expected a single value");
      return node.Scalar();
    }
  }
  return Config{}.data_dir;
}

}  // namespace atende
