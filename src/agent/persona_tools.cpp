#include "agent/persona_tools.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace atende::agent {
namespace {

[[noreturn]] void fail(const std::string& key, const std::string& problem) {
  throw std::invalid_argument(key + ": " + problem);
}

std::string scalar(const YAML::Node& n, const std::string& key, size_t max) {
  if (!n.IsScalar()) fail(key, "must be a string");
  auto s = n.as<std::string>();
  if (s.size() > max) fail(key, "longer than " + std::to_string(max) + " bytes");
  return s;
}

int whole(const YAML::Node& n, const std::string& key, int lo, int hi) {
  int v = 0;
  try {
    v = n.as<int>();
  } catch (const YAML::Exception&) {
    fail(key, "must be a whole number");
  }
  if (v < lo || v > hi)
    fail(key, "must be within " + std::to_string(lo) + ".." + std::to_string(hi));
  return v;
}

bool header_name_ok(std::string_view name) {
  if (name.empty() || name.size() > 100) return false;
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

void to_json_into(const YAML::Node& n, nlohmann::json& out, int depth, int max_depth, size_t& nodes,
                  size_t max_nodes) {
  if (++nodes > max_nodes)
    throw std::invalid_argument("more than " + std::to_string(max_nodes) + " nodes");
  if (depth > max_depth)
    throw std::invalid_argument("nested deeper than " + std::to_string(max_depth));
  switch (n.Type()) {
    case YAML::NodeType::Map:
      out = nlohmann::json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) throw std::invalid_argument("map keys must be strings");
        to_json_into(kv.second, out[kv.first.as<std::string>()], depth + 1, max_depth, nodes,
                     max_nodes);
      }
      return;
    case YAML::NodeType::Sequence:
      out = nlohmann::json::array();
      for (const auto& item : n) {
        out.push_back(nullptr);
        to_json_into(item, out.back(), depth + 1, max_depth, nodes, max_nodes);
      }
      return;
    case YAML::NodeType::Scalar: {
      const std::string s = n.Scalar();
      if (n.Tag() != "?") {  // quoted ("!") or explicitly tagged: keep the text
        out = s;
        return;
      }
      if (s == "null" || s == "~" || s.empty()) {
        out = nullptr;
        return;
      }
      if (s == "true" || s == "false") {
        out = s == "true";
        return;
      }
      // Numbers exactly as JSON would read them ("1e3", "-2", "0.5"), nothing looser.
      auto j = nlohmann::json::parse(s, nullptr, /*allow_exceptions=*/false);
      out = j.is_number() ? j : nlohmann::json(s);
      return;
    }
    default:
      out = nullptr;
  }
}

}  // namespace

nlohmann::json yaml_to_json(const YAML::Node& node, int max_depth, size_t max_nodes) {
  nlohmann::json out;
  size_t nodes = 0;
  to_json_into(node, out, 0, max_depth, nodes, max_nodes);
  return out;
}

std::optional<std::string> expand_env(std::string_view text, const EnvLookup& env,
                                      std::string* missing) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t at = text.find("${", i);
    if (at == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, at - i));
    const size_t end = text.find('}', at + 2);
    if (end == std::string_view::npos)
      throw std::invalid_argument("unclosed ${ in '" + std::string(text) + "'");
    const std::string name(text.substr(at + 2, end - at - 2));
    if (name.empty() || name.size() > 100 ||
        !std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; })) {
      throw std::invalid_argument("'${" + name + "}' is not an environment variable name");
    }
    const char* value = env ? env(name.c_str()) : std::getenv(name.c_str());
    if (!value || !*value) {
      if (missing) *missing = name;
      return std::nullopt;
    }
    out.append(value);
    i = end + 1;
  }
  return out;
}

PersonaHttpTools parse_http_tools(const YAML::Node& list, const std::vector<std::string>& taken,
                                  const EnvLookup& env) {
  if (!list.IsSequence()) fail("http_tools", "must be a list");
  if (list.size() > 16) fail("http_tools", "at most 16 tools");
  PersonaHttpTools out;
  std::vector<std::string> names = taken;
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node t = list[i];
    const std::string where = "http_tools[" + std::to_string(i) + "]";
    if (!t.IsMap()) fail(where, "must be a map");
    for (const auto& kv : t) {
      static const std::vector<std::string> known{
          "name",    "description", "parameters",        "url",
          "headers", "timeout_ms",  "max_response_bytes"};
      const auto key = kv.first.as<std::string>();
      if (std::find(known.begin(), known.end(), key) == known.end())
        fail(where + "." + key, "unknown key");
    }
    llm::HttpTool tool;
    if (!t["name"]) fail(where + ".name", "missing");
    tool.spec.name = scalar(t["name"], where + ".name", 64);
    if (std::find(names.begin(), names.end(), tool.spec.name) != names.end()) {
      fail(where + ".name", "'" + tool.spec.name + "' is already a tool of this persona");
    }
    names.push_back(tool.spec.name);
    if (!t["description"]) fail(where + ".description", "missing (the model needs it)");
    tool.spec.description = scalar(t["description"], where + ".description", 1024);
    if (tool.spec.description.empty()) fail(where + ".description", "empty");
    if (auto p = t["parameters"]) {
      if (!p.IsMap()) fail(where + ".parameters", "must be a map (a JSON Schema)");
      try {
        tool.spec.parameters = yaml_to_json(p);
      } catch (const std::invalid_argument& e) {
        fail(where + ".parameters", e.what());
      }
      // Invalid UTF-8 is replaced when the request is sent; measure it the same way.
      const auto text =
          tool.spec.parameters.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      if (text.size() > 16 * 1024) fail(where + ".parameters", "over 16 KB");
    } else {
      tool.spec.parameters = {{"type", "object"}, {"properties", nlohmann::json::object()}};
    }
    if (auto problem = llm::validate_tool_spec(tool.spec); !problem.empty()) fail(where, problem);

    std::string missing;
    bool enabled = true;
    auto expand = [&](const std::string& text, const std::string& key) -> std::string {
      try {
        auto v = expand_env(text, env, &missing);
        if (!v) enabled = false;
        return v.value_or("");
      } catch (const std::invalid_argument& e) {
        fail(key, e.what());
      }
    };
    if (!t["url"]) fail(where + ".url", "missing");
    const std::string url_text = scalar(t["url"], where + ".url", 2000);
    tool.url = expand(url_text, where + ".url");
    if (enabled && !(tool.url.rfind("http://", 0) == 0 || tool.url.rfind("https://", 0) == 0)) {
      fail(where + ".url", "'" + tool.url + "' is not an http:// or https:// URL");
    }
    if (enabled && has_control(tool.url)) fail(where + ".url", "contains control characters");
    if (auto h = t["headers"]) {
      if (!h.IsMap()) fail(where + ".headers", "must be a map of name: value");
      if (h.size() > 16) fail(where + ".headers", "at most 16 headers");
      for (const auto& kv : h) {
        const auto name = kv.first.as<std::string>();
        const std::string key = where + ".headers." + name;
        if (!header_name_ok(name)) fail(key, "not a valid header name");
        std::string value = expand(scalar(kv.second, key, 4096), key);
        if (has_control(value)) fail(key, "value contains control characters");
        tool.headers.emplace_back(name, std::move(value));
      }
    }
    if (auto v = t["timeout_ms"]) {
      tool.timeout = std::chrono::milliseconds(whole(v, where + ".timeout_ms", 100, 30000));
    }
    if (auto v = t["max_response_bytes"]) {
      tool.max_response_bytes = size_t(whole(v, where + ".max_response_bytes", 16, 65536));
    }
    if (enabled) {
      out.tools.push_back(std::move(tool));
    } else {
      out.disabled.push_back(tool.spec.name + ": " + missing + " is not set");
    }
  }
  return out;
}

}  // namespace atende::agent
