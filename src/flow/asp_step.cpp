#include "flow/asp_step.h"

#include <set>
#include <string>
#include <utility>

namespace atende::flow {
namespace {

bool is_ws_url(const std::string& s) {
  return s.rfind("ws://", 0) == 0 || s.rfind("wss://", 0) == 0;
}

}  // namespace

void expand_asp_steps(YAML::Node& root) {
  if (!root.IsMap()) return;
  YAML::Node steps = root["steps"];
  if (!steps || !steps.IsMap()) return;
  bool any = false;
  for (const auto& kv : steps) {
    const YAML::Node& s = kv.second;
    if (s.IsMap() && s["type"] && s["type"].IsScalar() && s["type"].Scalar() == "asp") any = true;
  }
  if (!any) return;
  static const std::set<std::string> kKeys{"type",       "url",          "prompt", "next",
                                           "on_failure", "ring_timeout", "into"};
  YAML::Node out(YAML::NodeType::Map);
  for (const auto& kv : steps) {
    const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
    const YAML::Node& s = kv.second;
    if (!(s.IsMap() && s["type"] && s["type"].IsScalar() && s["type"].Scalar() == "asp")) {
      out[kv.first] = kv.second;
      continue;
    }
    for (const auto& field : s) {
      const std::string key = field.first.IsScalar() ? field.first.Scalar() : std::string();
      if (!kKeys.count(key)) {
        throw YAML::ParserException(field.first.Mark(), "step '" + name + "': unknown key '" +
                                                            key.substr(0, 40) + "' for type asp");
      }
    }
    const YAML::Node url = s["url"];
    if (!url || !url.IsScalar() || !is_ws_url(url.Scalar())) {
      throw YAML::ParserException(
          s.Mark(), "step '" + name + "': type asp needs 'url' (ws://HOST:PORT/PATH)");
    }
    const std::string bridge = name + "-bridge";
    // Looked up through a const node: the non-const operator[] adds the key to the map
    // this loop walks, and the walk then skips a step.
    if (std::as_const(steps)[bridge]) {
      throw YAML::ParserException(
          s.Mark(), "step '" + name + "': the name '" + bridge + "' is taken (type asp uses it)");
    }
    YAML::Node dial(YAML::NodeType::Map);
    dial["type"] = "dial";
    dial["to"] = url.Scalar();
    dial["into"] = s["into"] ? s["into"] : YAML::Node(name);
    if (s["prompt"]) dial["prompt"] = s["prompt"];
    if (s["ring_timeout"]) dial["ring_timeout"] = s["ring_timeout"];
    dial["next"] = bridge;
    if (s["on_failure"]) dial["on_failure"] = s["on_failure"];
    YAML::Node link(YAML::NodeType::Map);
    link["type"] = "bridge";
    if (s["next"]) link["next"] = s["next"];
    if (s["on_failure"]) link["on_failure"] = s["on_failure"];
    out[name] = dial;
    out[bridge] = link;
  }
  root["steps"] = out;
}

}  // namespace atende::flow
