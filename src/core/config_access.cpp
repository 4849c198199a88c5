// `access:` of the config file (docs/security.md).
#include "core/config_access.h"

#include <algorithm>
#include <set>

#include "core/config.h"
#include "core/config_sections.h"

namespace atende {
namespace {

std::vector<Cidr> parse_cidrs(const std::string& ctx, const YAML::Node& node) {
  std::vector<Cidr> out;
  auto one = [&](const std::string& c, const std::string& text) {
    std::string why;
    auto cidr = parse_cidr(text, &why);
    if (!cidr) throw ConfigError(c + ": " + why);
    out.push_back(*cidr);
  };
  if (node.IsNull()) return out;  // "allow:" with nothing: an empty list
  if (node.IsScalar()) {
    one(ctx, node.Scalar());
    return out;
  }
  if (!node.IsSequence()) throw ConfigError(ctx + ": expected a list of CIDRs");
  int i = 0;
  for (const auto& item : node) {
    const std::string c = ctx + "[" + std::to_string(i++) + "]" + config_where(item);
    one(c, config_scalar(c, item));
  }
  return out;
}

double config_rate(const std::string& key, const std::string& value) {
  try {
    size_t end = 0;
    const double v = std::stod(value, &end);
    if (end != value.size() || !(v >= 0) || v > 1e6) throw std::invalid_argument("range");
    return v;
  } catch (const std::exception&) {
    throw ConfigError(key + ": '" + value + "' must be a number 0..1000000 (0: no limit)");
  }
}

bool safe_user(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c <= ' ' || c == '"' || c == '\\' || c == '<' || c == '>' || c == '@' || c == ':' ||
        c == 0x7f)
      return false;
  }
  return true;
}

void parse_accounts(const std::string& ctx, const YAML::Node& node, AccessConfig& a) {
  if (!node.IsSequence()) throw ConfigError(ctx + ": expected a list of {user, password}");
  std::set<std::string> users;
  int i = 0;
  for (const auto& entry : node) {
    const std::string ectx = ctx + "[" + std::to_string(i++) + "]" + config_where(entry);
    if (!entry.IsMap()) throw ConfigError(ectx + ": expected {user: ..., password: ...}");
    AccessAccount acc;
    for (const auto& kv : entry) {
      const std::string k = kv.first.as<std::string>();
      const std::string kctx = ectx + ": " + k;
      const std::string v = config_scalar(kctx, kv.second);
      if (k == "user")
        acc.user = v;
      else if (k == "password")
        acc.password = expand_env(kctx, v);
      else
        throw ConfigError(kctx + ": unknown key (user, password)");
    }
    if (!safe_user(acc.user)) {
      throw ConfigError(ectx + ": user '" + acc.user +
                        "' must be non-empty, without spaces, quotes, '@' or ':'");
    }
    if (acc.password.empty())
      throw ConfigError(ectx + ": account '" + acc.user + "' needs a password");
    if (!users.insert(acc.user).second) throw ConfigError(ectx + ": user '" + acc.user + "' twice");
    a.accounts.push_back(std::move(acc));
  }
}

void parse_limits(const std::string& ctx, const YAML::Node& node, AccessConfig& a) {
  if (!node.IsMap()) throw ConfigError(ctx + ": expected a map of key: value");
  for (const auto& kv : node) {
    const std::string k = kv.first.as<std::string>();
    const std::string kctx = ctx + ": " + k + config_where(kv.second);
    if (k == "calls_per_hour") {
      if (!kv.second.IsMap()) throw ConfigError(kctx + ": expected a map of flow or persona: N");
      a.calls_per_hour.clear();
      for (const auto& f : kv.second) {
        const std::string name = f.first.as<std::string>();
        a.calls_per_hour[name] =
            config_int(kctx + ": " + name, config_scalar(kctx + ": " + name, f.second), 0, 1000000);
      }
      continue;
    }
    const std::string v = config_scalar(kctx, kv.second);
    if (k == "invite_per_second")
      a.invite.per_second = config_rate(kctx, v);
    else if (k == "invite_burst")
      a.invite.burst = config_int(kctx, v, 1, 1000000);
    else if (k == "register_per_second")
      a.register_.per_second = config_rate(kctx, v);
    else if (k == "register_burst")
      a.register_.burst = config_int(kctx, v, 1, 1000000);
    else if (k == "options_per_second")
      a.options.per_second = config_rate(kctx, v);
    else if (k == "options_burst")
      a.options.burst = config_int(kctx, v, 1, 1000000);
    else if (k == "auth_failures_per_minute")
      a.auth_failures_per_minute = config_int(kctx, v, 0, 100000);
    else if (k == "over_limit") {
      if (v != "drop" && v != "503") throw ConfigError(kctx + ": '" + v + "' must be drop or 503");
      a.over_limit_drop = v == "drop";
    } else if (k == "block_seconds")
      a.block_seconds = config_int(kctx, v, 0, 86400);
    else if (k == "calls_per_source")
      a.calls_per_source = config_int(kctx, v, 0, 100000);
    else if (k == "persona_calls_per_hour")
      a.persona_calls_per_hour = config_int(kctx, v, 0, 1000000);
    else if (k == "max_sources")
      a.max_sources = config_int(kctx, v, 16, 10000000);
    else
      throw ConfigError(kctx + ": unknown key");
  }
}

}  // namespace

AccessConfig parse_access(const std::string& ctx, const YAML::Node& node) {
  AccessConfig a;
  if (node.IsNull()) return a;
  if (!node.IsMap()) throw ConfigError(ctx + ": expected a map of key: value");
  bool burst_given[3] = {false, false, false};
  for (const auto& kv : node) {
    const std::string k = kv.first.as<std::string>();
    const std::string kctx = ctx + ": " + k + config_where(kv.second);
    const YAML::Node& v = kv.second;
    if (k == "allow") {
      a.allow = parse_cidrs(kctx, v);
      a.allow_given = true;
    } else if (k == "deny") {
      a.deny = parse_cidrs(kctx, v);
    } else if (k == "trusted") {
      a.trusted = parse_cidrs(kctx, v);
      a.trusted_given = true;
    } else if (k == "exempt") {
      a.exempt = parse_cidrs(kctx, v);
      a.exempt_given = true;
    } else if (k == "algorithms") {
      if (!v.IsSequence() || v.size() == 0)
        throw ConfigError(kctx + ": expected a list of MD5, SHA-256");
      a.algorithms.clear();
      for (const auto& item : v) {
        const std::string alg = config_scalar(kctx, item);
        if (alg != "MD5" && alg != "SHA-256")
          throw ConfigError(kctx + ": '" + alg + "' must be MD5 or SHA-256");
        if (std::find(a.algorithms.begin(), a.algorithms.end(), alg) != a.algorithms.end())
          throw ConfigError(kctx + ": '" + alg + "' twice");
        a.algorithms.push_back(alg);
      }
    } else if (k == "accounts") {
      parse_accounts(kctx, v, a);
    } else if (k == "limits") {
      if (v["invite_burst"]) burst_given[0] = true;
      if (v["register_burst"]) burst_given[1] = true;
      if (v["options_burst"]) burst_given[2] = true;
      parse_limits(kctx, v, a);
    } else {
      static const std::set<std::string> kScalars{"denied", "realm", "challenge", "nonce_seconds",
                                                  "kernel_filter"};
      if (!kScalars.count(k)) throw ConfigError(kctx + ": unknown key");
      const std::string s = config_scalar(kctx, v);
      if (k == "denied") {
        if (s != "drop" && s != "reject")
          throw ConfigError(kctx + ": '" + s + "' must be drop or reject");
        a.denied_drop = s == "drop";
      } else if (k == "realm") {
        if (s.empty() || s.find_first_of("\"\\\r\n") != std::string::npos)
          throw ConfigError(kctx + ": must be non-empty, without quotes or backslashes");
        a.realm = s;
      } else if (k == "challenge") {
        a.challenge_status = config_int(kctx, s, 401, 407);
        if (a.challenge_status != 401 && a.challenge_status != 407)
          throw ConfigError(kctx + ": must be 401 or 407");
      } else if (k == "nonce_seconds") {
        a.nonce_seconds = config_int(kctx, s, 5, 86400);
      } else if (k == "kernel_filter") {
        a.kernel_filter = config_bool(kctx, s);
      } else {
        throw ConfigError(kctx + ": unknown key");
      }
    }
  }
  // A burst left out follows its rate: twice a second's worth, at least 1.
  AccessRate* rates[3] = {&a.invite, &a.register_, &a.options};
  for (int i = 0; i < 3; ++i) {
    if (!burst_given[i]) rates[i]->burst = std::max(1, static_cast<int>(rates[i]->per_second * 2));
  }
  return a;
}

}  // namespace atende
