// The `audiosocket_listen` key and --audiosocket-listen flag (docs/audiosocket.md).
#include "core/config_sections.h"

namespace atende {
namespace {

constexpr size_t kMaxListeners = 16;

AudioSocketListenConfig one(const std::string& ctx, const YAML::Node& node) {
  AudioSocketListenConfig l;
  if (node.IsScalar()) return parse_audiosocket_flag(ctx, node.Scalar());
  if (!node.IsMap()) throw ConfigError(ctx + ": expected HOST:PORT or {listen, flow}");
  for (const auto& item : node) {
    const std::string key = item.first.as<std::string>();
    const std::string v = config_scalar(ctx + "." + key, item.second);
    if (key == "listen")
      l.address = parse_host_port(ctx + ".listen", v);
    else if (key == "flow" || key == "persona")
      l.flow = v;
    else
      throw ConfigError(ctx + ": unknown key '" + key + "' (listen, flow)");
  }
  if (l.address.port == 0) throw ConfigError(ctx + ": 'listen: HOST:PORT' is required");
  return l;
}

}  // namespace

AudioSocketListenConfig parse_audiosocket_flag(const std::string& key, const std::string& value) {
  AudioSocketListenConfig l;
  const auto eq = value.find('=');
  l.address = parse_host_port(key, value.substr(0, eq));
  if (eq != std::string::npos) {
    l.flow = value.substr(eq + 1);
    if (l.flow.empty()) throw ConfigError(key + ": '" + value + "': empty flow after '='");
  }
  return l;
}

std::vector<AudioSocketListenConfig> parse_audiosocket_listen(const std::string& ctx,
                                                              const YAML::Node& node) {
  std::vector<AudioSocketListenConfig> out;
  if (node.IsScalar() &&
      (node.Scalar() == "off" || node.Scalar() == "false" || node.Scalar().empty())) {
    return out;
  }
  if (node.IsNull()) return out;
  if (!node.IsSequence()) {
    out.push_back(one(ctx, node));
    return out;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    if (out.size() >= kMaxListeners) throw ConfigError(ctx + ": at most 16 listeners");
    out.push_back(one(ctx + "[" + std::to_string(i) + "]" + config_where(node[i]), node[i]));
  }
  return out;
}

}  // namespace atende
