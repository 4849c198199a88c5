// Parsers of the config file's structured sections (lists of maps), one file each.
// Each throws ConfigError naming the key, the entry and the line.
#pragma once
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "core/config.h"

namespace atende {

std::vector<TrunkConfig> parse_trunks(const std::string& ctx, const YAML::Node& node);
std::vector<DialPlanEntry> parse_dialplan(const std::string& ctx, const YAML::Node& node);
// Cross-checks: every trunk a dialplan entry names exists, at most one default trunk.
void validate_dialplan(const std::vector<DialPlanEntry>& plan,
                       const std::vector<TrunkConfig>& trunks);

// `audiosocket_listen`: "HOST:PORT", "off", or a list of "HOST:PORT" and
// {listen: HOST:PORT, flow: NAME} (config_audiosocket.cpp).
std::vector<AudioSocketListenConfig> parse_audiosocket_listen(const std::string& ctx,
                                                              const YAML::Node& node);

// Helpers for section parsers.
std::string config_where(const YAML::Node& node);  // " (line N)", or "" when unknown
// The node's text; ConfigError "ctx (line N): expected a single value" when it is a list or map.
std::string config_scalar(const std::string& ctx, const YAML::Node& node);
int config_int(const std::string& key, const std::string& value, int lo, int hi);
bool config_bool(const std::string& key, const std::string& value);

}  // namespace atende
