#include "core/config_api_tokens.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdlib>
#include <set>

#include "core/config_sections.h"

namespace atende {
namespace {

constexpr size_t kMaxTokens = 256;
constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxTokenLength = 512;
constexpr size_t kMaxPatterns = 256;
constexpr size_t kMaxPatternLength = 128;

int bounded_int(const std::string& ctx, const YAML::Node& node, int lo, int hi) {
  const std::string v = config_scalar(ctx, node);
  int out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || out < lo || out > hi) {
    throw ConfigError(ctx + config_where(node) + ": '" + v + "' must be a whole number in " +
                      std::to_string(lo) + ".." + std::to_string(hi));
  }
  return out;
}

// Names appear in logs and audit rows, so keep them to a plain, printable alphabet.
bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > kMaxNameLength) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// "${NAME}" takes the secret from the environment, so it need not sit in the file.
std::string resolve_token(const std::string& ctx, const YAML::Node& node) {
  const std::string raw = config_scalar(ctx, node);
  if (raw.size() >= 3 && raw.compare(0, 2, "${") == 0 && raw.back() == '}') {
    const std::string var = raw.substr(2, raw.size() - 3);
    bool ok = !var.empty() && !(var[0] >= '0' && var[0] <= '9');
    for (const char c : var) {
      ok = ok &&
           ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
    }
    if (!ok)
      throw ConfigError(ctx + config_where(node) + ": '" + raw + "' is not ${VARIABLE_NAME}");
    const char* value = std::getenv(var.c_str());
    if (!value) {
      throw ConfigError(ctx + config_where(node) + ": environment variable " + var + " is not set");
    }
    return value;
  }
  if (raw.find("${") != std::string::npos) {
    throw ConfigError(ctx + config_where(node) +
                      ": write ${VARIABLE_NAME} alone to read the token "
                      "from the environment");
  }
  return raw;
}

ApiTokenConfig parse_one(const std::string& ctx, const YAML::Node& item) {
  if (!item.IsMap()) {
    throw ConfigError(ctx + config_where(item) + ": expected a map {name, token, allow, ...}");
  }
  ApiTokenConfig t;
  std::string token_line;  // " (line N)" of the token; the node itself does not outlive the loop
  bool has_token = false;
  for (const auto& field : item) {
    const std::string key = field.first.IsScalar() ? field.first.Scalar() : "?";
    const YAML::Node& v = field.second;
    const std::string at = ctx + ": " + key;
    if (key == "name") {
      t.name = config_scalar(at, v);
      if (!valid_name(t.name)) {
        throw ConfigError(at + config_where(v) + ": '" + t.name +
                          "' must be 1-64 letters, digits, '_', '-' or '.'");
      }
    } else if (key == "token") {
      t.token = resolve_token(at, v);
      token_line = config_where(v);
      has_token = true;
    } else if (key == "allow") {
      if (!v.IsSequence())
        throw ConfigError(at + config_where(v) + ": expected a list of patterns");
      if (v.size() > kMaxPatterns) {
        throw ConfigError(at + config_where(v) + ": more than " + std::to_string(kMaxPatterns) +
                          " patterns");
      }
      for (const auto& p : v) {
        std::string pattern = config_scalar(at, p);
        if (pattern.empty() || pattern.size() > kMaxPatternLength) {
          throw ConfigError(at + config_where(p) + ": a pattern must be 1-" +
                            std::to_string(kMaxPatternLength) + " characters");
        }
        t.allow.push_back(std::move(pattern));
      }
    } else if (key == "rate_per_minute") {
      t.rate_per_minute = bounded_int(at, v, 1, 100000);
    } else if (key == "burst") {
      t.burst = bounded_int(at, v, 1, 10000);
    } else {
      throw ConfigError(at + config_where(field.first) + ": unknown key");
    }
  }
  if (t.name.empty()) throw ConfigError(ctx + config_where(item) + ": name is required");
  const std::string named = ctx + " '" + t.name + "': token";
  if (!has_token) throw ConfigError(named + config_where(item) + ": is required");
  // The secret goes in an HTTP header: printable ASCII without spaces.
  for (const char c : t.token) {
    if (c <= ' ' || c > '~') {
      throw ConfigError(named + token_line + ": only printable ASCII without spaces is allowed");
    }
  }
  if (t.token.size() < kMinApiTokenLength) {
    throw ConfigError(named + token_line + ": too short to be safe (at least " +
                      std::to_string(kMinApiTokenLength) + " characters)");
  }
  if (t.token.size() > kMaxTokenLength) {
    throw ConfigError(named + token_line + ": longer than " + std::to_string(kMaxTokenLength) +
                      " characters");
  }
  return t;
}

}  // namespace

void parse_api_tokens(const std::string& ctx, const YAML::Node& node, Config& cfg) {
  std::vector<ApiTokenConfig> out;
  if (node.IsNull()) {  // "api_tokens:" with nothing under it: no clients
    cfg.api_tokens.clear();
    return;
  }
  if (!node.IsSequence()) {
    throw ConfigError(ctx + config_where(node) + ": expected a list of {name, token, ...}");
  }
  if (node.size() > kMaxTokens) {
    throw ConfigError(ctx + config_where(node) + ": more than " + std::to_string(kMaxTokens) +
                      " tokens");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    ApiTokenConfig t = parse_one(ctx + "[" + std::to_string(i) + "]", item);
    if (!names.insert(t.name).second) {
      throw ConfigError(ctx + config_where(item) + ": the name '" + t.name + "' is used twice");
    }
    // Two clients sharing a secret could not be told apart in the audit log.
    for (const auto& other : out) {
      if (other.token == t.token) {
        throw ConfigError(ctx + config_where(item) + ": '" + t.name + "' has the same token as '" +
                          other.name + "'");
      }
    }
    out.push_back(std::move(t));
  }
  cfg.api_tokens = std::move(out);
}

}  // namespace atende
