// The `api_tokens:` section of the config file: a list of REST API clients.
//
//   api_tokens:
//     - name: crm                      # shown in logs and the audit log
//       token: ${ATENDE_CRM_TOKEN}     # or the literal secret; at least 16 characters
//       allow: ["+5511*", "2xxx", "sip:support@pbx.example.com"]   # default: none
//       rate_per_minute: 60            # default 60
//       burst: 10                      # default 10
//
// Kept apart from config.cpp so that file stays a flat list of scalar keys.
#pragma once
#include <string>

#include "core/config.h"

namespace YAML {
class Node;
}

namespace atende {

// Parses `node` (the value of `api_tokens`) into cfg.api_tokens, replacing what was there.
// `ctx` is "<file>: api_tokens". Throws ConfigError naming the entry, the field and
// its line; never the secret itself.
void parse_api_tokens(const std::string& ctx, const YAML::Node& node, Config& cfg);

// The minimum length of a token; shorter ones are refused at start-up.
constexpr size_t kMinApiTokenLength = 16;

}  // namespace atende
