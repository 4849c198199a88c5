// The `webhooks:` section of the config file: where call events are POSTed
// (hooks::WebhookSender, docs/api.md "Webhooks"). A list of maps:
//
//   webhooks:
//     - url: https://crm.example.com/atende/events
//       secret: ${CRM_WEBHOOK_SECRET}     # ${NAME}: read from the environment
//       events: [call.started, call.ended]  # optional, default: every event
//       flows: [sales, support]             # optional, default: every flow
//       max_attempts: 5                     # optional, 1..20
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace YAML {
class Node;
}

namespace atende {

struct WebhookEndpointConfig {
  std::string url;                  // http:// or https://
  std::string secret;               // the HMAC key, resolved (never log it)
  std::vector<std::string> events;  // event types to send; empty = all
  std::vector<std::string> flows;   // flows whose events to send; empty = all
  int max_attempts = 5;             // first try included
};

// The event types a webhook may subscribe to (sessions::SessionEvent::type).
std::span<const std::string_view> webhook_event_types();

// Parses the value of the `webhooks:` key. `ctx` names it in errors ("atende.yaml:
// webhooks"); every error also names the entry, the field and its line. Throws ConfigError.
std::vector<WebhookEndpointConfig> parse_webhooks(const std::string& ctx, const YAML::Node& node);

}  // namespace atende
