// The `http_tools:` of a persona: functions the model may call that POST their arguments as
// JSON to a configured URL; the answer goes back to the model (llm::HttpToolRunner).
//
//   http_tools:
//     - name: check_availability
//       description: Whether the restaurant has a table for that date, time and party size.
//       parameters:                          # JSON Schema of the arguments, as YAML
//         type: object
//         properties:
//           date: {type: string, description: "YYYY-MM-DD"}
//           people: {type: integer}
//         required: [date, people]
//       url: "${RESTAURANT_API_URL}/availability"   # ${VAR}: from the environment
//       headers: {Authorization: "Bearer ${RESTAURANT_API_KEY}"}
//       timeout_ms: 3000                     # 100..30000, default 3000
//       max_response_bytes: 8192             # 16..65536, default 8192
//
// Everything is checked at load ("http_tools[0].url: problem"). A tool whose url or a
// header names an environment variable that is not set is left out (disabled, with the
// reason) rather than failing the persona: an integration shipped in a persona is off until
// it is configured.
#pragma once
#include <yaml-cpp/yaml.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/tools.h"

namespace atende::agent {

using EnvLookup = std::function<const char*(const char* name)>;

struct PersonaHttpTools {
  std::vector<llm::HttpTool> tools;   // enabled
  std::vector<std::string> disabled;  // "name: RESTAURANT_API_URL is not set"
};

// Throws std::invalid_argument("http_tools[i].key: problem"). `taken` are the names already
// used (the built-in tools); `env` defaults to getenv.
PersonaHttpTools parse_http_tools(const YAML::Node& list, const std::vector<std::string>& taken,
                                  const EnvLookup& env = {});

// Replaces each ${NAME} (letters, digits, '_') by the variable's value. nullopt if one is
// not set (or empty): `missing` gets its name. A malformed reference throws
// std::invalid_argument.
std::optional<std::string> expand_env(std::string_view text, const EnvLookup& env,
                                      std::string* missing = nullptr);

// A YAML tree as JSON: plain scalars that read as null/bool/integer/number become those,
// quoted ones stay strings. Throws std::invalid_argument beyond `max_depth` levels or
// `max_nodes` nodes.
nlohmann::json yaml_to_json(const YAML::Node& node, int max_depth = 16, size_t max_nodes = 2000);

}  // namespace atende::agent
