#include "api/call_request.h"

#include <set>

#include "api/number_allow_list.h"

namespace atende::api {

namespace {

struct TooDeep {};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A field name from the client, made safe to quote back: bounded and printable.
std::string quote_field(std::string_view key) {
  std::string out = "'";
  for (const char c : key.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f) ? '?' : c;
  }
  if (key.size() > 64) out += "...";
  return out + "'";
}

BodyError bad(std::string message) { return {400, std::move(message)}; }

// Flow, persona and trunk names: they select files and config entries.
bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > kMaxNameLength) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return s.front() != '.';
}

bool valid_variable_name(const std::string& s) {
  if (s.empty() || s.size() > kMaxVariableName) return false;
  for (const char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::optional<BodyError> string_field(const nlohmann::json& body, const char* name,
                                      std::string& out) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return bad(std::string("field '") + name + "' must be a string");
  out = it->get<std::string>();
  return std::nullopt;
}

std::optional<BodyError> name_field(const nlohmann::json& body, const char* name,
                                    std::string& out) {
  if (auto e = string_field(body, name, out)) return e;
  if (body.contains(name) && !out.empty() && !valid_name(out)) {
    return bad(std::string("field '") + name + "' must be 1-64 letters, digits, '_', '-' or '.'");
  }
  return std::nullopt;
}

std::optional<BodyError> unknown_fields(const nlohmann::json& body,
                                        const std::set<std::string>& known) {
  for (const auto& [key, value] : body.items()) {
    if (!known.count(key)) return bad("unknown field " + quote_field(key));
  }
  return std::nullopt;
}

std::optional<BodyError> destination(const nlohmann::json& body, const char* name,
                                     std::string& out) {
  std::string raw;
  if (auto e = string_field(body, name, raw)) return e;
  if (!body.contains(name) || body.at(name).is_null()) {
    return bad(std::string("field '") + name + "' is required");
  }
  std::string error;
  auto normalised = normalize_destination(raw, error);
  if (!normalised) return bad(std::string("field '") + name + "': " + error);
  out = std::move(*normalised);
  return std::nullopt;
}

std::optional<BodyError> variable_value(const std::string& key, const nlohmann::json& value,
                                        std::map<std::string, std::string>& out) {
  if (!value.is_string()) return bad("variable " + quote_field(key) + " must be a string");
  std::string v = value.get<std::string>();
  if (v.size() > kMaxVariableValue) {
    return bad("variable " + quote_field(key) + " is longer than " +
               std::to_string(kMaxVariableValue) + " bytes");
  }
  out[key] = std::move(v);
  return std::nullopt;
}

}  // namespace

std::optional<BodyError> read_json_object(const HttpRequest& request, nlohmann::json& out) {
  const std::string* type = request.header("Content-Type");
  const std::string media =
      type ? lower(trim(std::string_view(*type).substr(0, type->find(';')))) : std::string();
  if (media != "application/json") {
    return BodyError{415, "Content-Type must be application/json"};
  }
  if (request.body.size() > kMaxJsonBody) {
    return BodyError{413, "request body larger than " + std::to_string(kMaxJsonBody) + " bytes"};
  }
  try {
    out = nlohmann::json::parse(request.body,
                                [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
                                  if (depth > kMaxJsonDepth) throw TooDeep{};
                                  return true;
                                });
  } catch (const TooDeep&) {
    return bad("bad JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() quotes the bytes it read: give only where it failed.
    return bad("bad JSON: syntax error at byte " + std::to_string(e.byte));
  } catch (const nlohmann::json::out_of_range&) {
    return bad("bad JSON: number out of range");  // 1e999: a double overflow
  } catch (const nlohmann::json::exception&) {
    return bad("bad JSON");
  }
  if (!out.is_object()) return bad("bad JSON: the body must be a JSON object");
  return std::nullopt;
}

std::optional<BodyError> parse_originate(const nlohmann::json& body,
                                         sessions::OriginateRequest& out) {
  if (auto e = unknown_fields(
          body, {"to", "flow", "persona", "trunk", "caller_id", "variables", "ring_timeout"})) {
    return e;
  }
  if (auto e = destination(body, "to", out.to)) return e;
  if (auto e = name_field(body, "flow", out.flow)) return e;
  if (auto e = name_field(body, "persona", out.persona)) return e;
  if (out.flow.empty() == out.persona.empty()) {
    return bad("exactly one of 'flow' or 'persona' is required");
  }
  if (auto e = name_field(body, "trunk", out.trunk)) return e;

  std::string caller_id;
  if (auto e = string_field(body, "caller_id", caller_id)) return e;
  if (!caller_id.empty()) {
    std::string error;
    auto n = normalize_destination(caller_id, error);
    if (!n || is_uri_destination(*n)) {
      return bad("field 'caller_id' must be a number" + (n ? "" : ": " + error));
    }
    out.caller_id = std::move(*n);
  }

  if (const auto it = body.find("variables"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return bad("field 'variables' must be an object of strings");
    if (it->size() > kMaxVariables) {
      return bad("field 'variables' has more than " + std::to_string(kMaxVariables) + " entries");
    }
    for (const auto& [key, value] : it->items()) {
      if (!valid_variable_name(key)) {
        return bad("variable " + quote_field(key) + ": names are 1-64 letters, digits and '_'");
      }
      if (auto e = variable_value(key, value, out.variables)) return e;
    }
  }

  out.ring_timeout_seconds = kDefaultRingTimeout;
  if (const auto it = body.find("ring_timeout"); it != body.end() && !it->is_null()) {
    const bool integer = it->is_number_integer();
    const auto v = integer ? it->get<int64_t>() : 0;
    if (!integer || v < 1 || v > kMaxRingTimeout) {
      return bad("field 'ring_timeout' must be an integer (seconds) in 1.." +
                 std::to_string(kMaxRingTimeout));
    }
    out.ring_timeout_seconds = static_cast<int>(v);
  }
  return std::nullopt;
}

std::optional<BodyError> parse_start_call(const nlohmann::json& body,
                                          sessions::OriginateRequest& out) {
  if (auto e = unknown_fields(body, {"phone_number", "persona", "customer_name"})) return e;
  if (auto e = destination(body, "phone_number", out.to)) return e;
  if (auto e = name_field(body, "persona", out.persona)) return e;
  if (out.persona.empty()) return bad("field 'persona' is required");
  std::string name;
  if (auto e = string_field(body, "customer_name", name)) return e;
  if (name.size() > kMaxVariableValue) {
    return bad("field 'customer_name' is longer than " + std::to_string(kMaxVariableValue) +
               " bytes");
  }
  if (!name.empty()) out.variables["customer_name"] = std::move(name);
  out.ring_timeout_seconds = kDefaultRingTimeout;
  return std::nullopt;
}

std::string describe(const sessions::OriginateRequest& r) {
  std::string out = "to=" + r.to;
  if (!r.flow.empty()) out += " flow=" + r.flow;
  if (!r.persona.empty()) out += " persona=" + r.persona;
  if (!r.trunk.empty()) out += " trunk=" + r.trunk;
  if (!r.caller_id.empty()) out += " caller_id=" + r.caller_id;
  if (!r.variables.empty()) {
    out += " vars=";
    bool first = true;
    for (const auto& [k, v] : r.variables) {
      out += (first ? "" : ",") + k;
      first = false;
    }
  }
  return out;
}

}  // namespace atende::api
