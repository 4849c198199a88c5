#include "core/config_webhooks.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>

#include "core/config.h"
#include "core/config_sections.h"

namespace atende {
namespace {

constexpr std::array<std::string_view, 4> kEventTypes{"call.started", "call.answered",
                                                      "turn.completed", "call.ended"};

std::vector<std::string> string_list(const std::string& ctx, const YAML::Node& node) {
  std::vector<std::string> out;
  if (node.IsNull()) return out;
  if (node.IsScalar()) {  // `events: call.ended` is a list of one
    out.push_back(node.Scalar());
    return out;
  }
  if (!node.IsSequence()) throw ConfigError(ctx + config_where(node) + ": expected a list");
  for (const auto& item : node) out.push_back(config_scalar(ctx, item));
  return out;
}

// `${NAME}` reads the environment variable NAME; anything else is the secret itself.
std::string resolve_secret(const std::string& ctx, const std::string& value) {
  if (value.size() > 3 && value.starts_with("${") && value.ends_with("}")) {
    const std::string name = value.substr(2, value.size() - 3);
    const char* v = std::getenv(name.c_str());
    if (v == nullptr || *v == 0) {
      throw ConfigError(ctx + ": environment variable " + name + " is not set");
    }
    return v;
  }
  if (value.empty()) throw ConfigError(ctx + ": must not be empty");
  return value;
}

WebhookEndpointConfig parse_endpoint(const std::string& ctx, const YAML::Node& node) {
  if (!node.IsMap()) {
    throw ConfigError(ctx + config_where(node) +
                      ": expected a map with url, secret, events, flows");
  }
  WebhookEndpointConfig ep;
  bool have_secret = false;
  for (const auto& item : node) {
    const std::string key = item.first.as<std::string>();
    const YAML::Node& value = item.second;
    const std::string kctx = ctx + "." + key;
    if (key == "url") {
      ep.url = config_scalar(kctx, value);
      if (!ep.url.starts_with("http://") && !ep.url.starts_with("https://")) {
        throw ConfigError(kctx + config_where(value) + ": '" + ep.url +
                          "' must start with http:// or https://");
      }
      if (ep.url.find_first_of(" \t\r\n") != std::string::npos || ep.url.size() <= 8) {
        throw ConfigError(kctx + config_where(value) + ": '" + ep.url + "' is not a URL");
      }
    } else if (key == "secret") {
      // The value itself never goes into an error message.
      ep.secret = resolve_secret(kctx + config_where(value), config_scalar(kctx, value));
      have_secret = true;
    } else if (key == "events") {
      ep.events = string_list(kctx, value);
      std::string unknown;
      for (const auto& e : ep.events) {
        if (std::find(kEventTypes.begin(), kEventTypes.end(), e) == kEventTypes.end()) {
          unknown += (unknown.empty() ? "'" : ", '") + e + "'";
        }
      }
      if (!unknown.empty()) {
        throw ConfigError(kctx + config_where(value) + ": unknown event " + unknown +
                          " (known: call.started, call.answered, turn.completed, call.ended)");
      }
    } else if (key == "flows") {
      ep.flows = string_list(kctx, value);
    } else if (key == "max_attempts") {
      const std::string v = config_scalar(kctx, value);
      int n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > 20) {
        throw ConfigError(kctx + config_where(value) + ": '" + v +
                          "' must be a whole number 1..20");
      }
      ep.max_attempts = n;
    } else {
      throw ConfigError(kctx + config_where(value) +
                        ": unknown key (expected url, secret, events, flows, max_attempts)");
    }
  }
  if (ep.url.empty()) throw ConfigError(ctx + config_where(node) + ": url is required");
  if (!have_secret) {
    throw ConfigError(ctx + config_where(node) +
                      ": secret is required (e.g. secret: ${WEBHOOK_SECRET} reads the "
                      "environment)");
  }
  return ep;
}

}  // namespace

std::span<const std::string_view> webhook_event_types() { return kEventTypes; }

std::vector<WebhookEndpointConfig> parse_webhooks(const std::string& ctx, const YAML::Node& node) {
  std::vector<WebhookEndpointConfig> out;
  if (node.IsNull()) return out;  // `webhooks:` with nothing under it
  if (!node.IsSequence()) {
    throw ConfigError(ctx + config_where(node) + ": expected a list of endpoints (- url: ...)");
  }
  for (size_t i = 0; i < node.size(); ++i) {
    out.push_back(parse_endpoint(ctx + "[" + std::to_string(i) + "]", node[i]));
  }
  return out;
}

}  // namespace atende
