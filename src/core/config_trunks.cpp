// `trunks:` and `dialplan:` of the config file (docs/sessions.md).
#include <cstdlib>
#include <set>

#include "core/config_sections.h"

namespace atende {

std::string config_where(const YAML::Node& node) {
  const auto& m = node.Mark();
  if (m.line < 0) return "";
  return " (line " + std::to_string(m.line + 1) + ")";
}

std::string config_scalar(const std::string& ctx, const YAML::Node& node) {
  if (!node.IsScalar()) throw ConfigError(ctx + config_where(node) + ": expected a single value");
  return node.Scalar();
}

int config_int(const std::string& key, const std::string& value, int lo, int hi) {
  try {
    size_t end = 0;
    const long v = std::stol(value, &end);
    if (end != value.size()) throw std::invalid_argument("junk");
    if (v < lo || v > hi) {
      throw ConfigError(key + ": " + value + " is out of range " + std::to_string(lo) + ".." +
                        std::to_string(hi));
    }
    return static_cast<int>(v);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception&) {
    throw ConfigError(key + ": '" + value + "' is not a whole number");
  }
}

bool config_bool(const std::string& key, const std::string& value) {
  if (value == "true" || value == "yes" || value == "on") return true;
  if (value == "false" || value == "no" || value == "off") return false;
  throw ConfigError(key + ": '" + value + "' must be true or false");
}

std::string expand_env(const std::string& ctx, const std::string& value) {
  if (value.size() < 4 || value.rfind("${", 0) != 0 || value.back() != '}') return value;
  const std::string name = value.substr(2, value.size() - 3);
  const char* v = std::getenv(name.c_str());
  if (!v || !*v) throw ConfigError(ctx + ": environment variable " + name + " is not set");
  return v;
}

namespace {

// Every entry of a section is a map of scalars; `fn(key, value, ctx)` takes each.
template <class Fn>
void for_each_field(const std::string& ctx, const YAML::Node& entry, Fn fn) {
  if (!entry.IsMap()) throw ConfigError(ctx + ": expected a map of key: value");
  for (const auto& item : entry) {
    const std::string key = item.first.as<std::string>();
    const std::string kctx = ctx + ": " + key + config_where(item.second);
    if (!item.second.IsScalar()) throw ConfigError(kctx + ": expected a single value");
    fn(key, item.second.Scalar(), kctx);
  }
}

bool safe_token(const std::string& s) {
  for (char c : s) {
    if (c <= ' ' || c == '<' || c == '>' || c == '"' || c == '\\' || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::vector<TrunkConfig> parse_trunks(const std::string& ctx, const YAML::Node& node) {
  if (!node.IsSequence()) throw ConfigError(ctx + ": expected a list of trunks");
  std::vector<TrunkConfig> out;
  std::set<std::string> names;
  int index = 0;
  for (const auto& entry : node) {
    const std::string ectx = ctx + "[" + std::to_string(index++) + "]";
    TrunkConfig t;
    for_each_field(ectx, entry,
                   [&](const std::string& k, const std::string& v, const std::string& c) {
                     if (k == "name")
                       t.name = v;
                     else if (k == "host")
                       t.host = v;
                     else if (k == "port")
                       t.port = config_int(c, v, 1, 65535);
                     else if (k == "transport")
                       t.transport = v;
                     else if (k == "srtp")
                       t.srtp = v;
                     else if (k == "user")
                       t.user = v;
                     else if (k == "password")
                       t.password = expand_env(c, v);
                     else if (k == "domain")
                       t.domain = v;
                     else if (k == "from_user")
                       t.from_user = v;
                     else if (k == "from_display")
                       t.from_display = v;
                     else if (k == "outbound_proxy")
                       t.outbound_proxy = v;
                     else if (k == "register")
                       t.register_account = config_bool(c, v);
                     else if (k == "register_expires")
                       t.register_expires = config_int(c, v, 30, 86400);
                     else if (k == "inbound")
                       t.inbound = v;
                     else if (k == "default")
                       t.is_default = config_bool(c, v);
                     else if (k == "rtp_latch")
                       t.rtp_latch = parse_rtp_latch(c, v);
                     else
                       throw ConfigError(c + ": unknown key");
                   });
    if (t.name.empty()) throw ConfigError(ectx + ": every trunk needs a name");
    if (!names.insert(t.name).second) throw ConfigError(ectx + ": trunk '" + t.name + "' twice");
    if (t.host.empty()) throw ConfigError(ectx + ": trunk '" + t.name + "' needs a host");
    if (t.transport != "udp" && t.transport != "tcp" && t.transport != "tls" &&
        t.transport != "audiosocket") {
      throw ConfigError(ectx + ": transport '" + t.transport +
                        "' must be udp, tcp or tls (or audiosocket)");
    }
    // An AudioSocket "trunk" (docs/audiosocket.md): numbers routed to it are dialled by
    // connecting to host:port as an AudioSocket client. Nothing to register there.
    if (t.transport == "audiosocket" && t.register_account) {
      throw ConfigError(ectx + ": trunk '" + t.name + "' is audiosocket: it cannot register");
    }
    if (t.srtp != "off" && t.srtp != "optional" && t.srtp != "required") {
      throw ConfigError(ectx + ": srtp '" + t.srtp + "' must be off, optional or required");
    }
    // SIP over TLS listens on 5061 (RFC 3261 26.2): that is the default for a tls trunk.
    if (t.transport == "tls" && !entry["port"]) t.port = 5061;
    for (const std::string* f : {&t.name, &t.host, &t.user, &t.domain, &t.from_user}) {
      if (!safe_token(*f)) throw ConfigError(ectx + ": '" + *f + "' has spaces or quotes");
    }
    if (!t.outbound_proxy.empty() && t.outbound_proxy.rfind("sip:", 0) != 0) {
      throw ConfigError(ectx + ": outbound_proxy must be a sip: URI");
    }
    if (t.register_account && t.user.empty()) {
      throw ConfigError(ectx + ": trunk '" + t.name + "' registers, so it needs a user");
    }
    if (!t.password.empty() && t.user.empty()) {
      throw ConfigError(ectx + ": trunk '" + t.name + "' has a password but no user");
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<DialPlanEntry> parse_dialplan(const std::string& ctx, const YAML::Node& node) {
  if (!node.IsSequence())
    throw ConfigError(ctx + ": expected a list of {match: ..., flow|persona|trunk: ...}");
  std::vector<DialPlanEntry> out;
  int index = 0;
  for (const auto& entry : node) {
    const std::string ectx = ctx + "[" + std::to_string(index++) + "]";
    DialPlanEntry e;
    for_each_field(ectx, entry,
                   [&](const std::string& k, const std::string& v, const std::string& c) {
                     if (k == "match")
                       e.match = v;
                     else if (k == "flow")
                       e.flow = v;
                     else if (k == "persona")
                       e.persona = v;
                     else if (k == "trunk")
                       e.trunk = v;
                     else
                       throw ConfigError(c + ": unknown key");
                   });
    if (e.match.empty()) throw ConfigError(ectx + ": every entry needs a match");
    const int targets = !e.flow.empty() + !e.persona.empty() + !e.trunk.empty();
    if (targets != 1) throw ConfigError(ectx + ": give exactly one of flow, persona, trunk");
    out.push_back(std::move(e));
  }
  return out;
}

void validate_dialplan(const std::vector<DialPlanEntry>& plan,
                       const std::vector<TrunkConfig>& trunks) {
  int defaults = 0;
  for (const auto& t : trunks) defaults += t.is_default;
  if (defaults > 1) throw ConfigError("trunks: more than one has default: true");
  for (const auto& e : plan) {
    if (e.trunk.empty()) continue;
    bool found = false;
    for (const auto& t : trunks) found |= t.name == e.trunk;
    if (!found)
      throw ConfigError("dialplan: '" + e.match + "' names trunk '" + e.trunk +
                        "', which is not in trunks");
  }
}

}  // namespace atende
