// Fuzzes what the call-control routes parse from hostile clients: JSON bodies into an
// OriginateRequest (both shapes), destinations and allow-list matching, and the
// Authorization header.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/api_auth.h"
#include "api/call_request.h"
#include "api/number_allow_list.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  atende::api::HttpRequest req;
  req.headers.emplace_back("Content-Type", "application/json");
  req.body = text;
  nlohmann::json body;
  if (!atende::api::read_json_object(req, body)) {
    atende::sessions::OriginateRequest a;
    if (!atende::api::parse_originate(body, a)) (void)atende::api::describe(a);
    atende::sessions::OriginateRequest b;
    (void)atende::api::parse_start_call(body, b);
  }

  static const atende::api::NumberAllowList allow =
      atende::api::NumberAllowList::compile({"+5511*", "2xxx", "*21#", "sip:a@b"});
  std::string error;
  if (auto d = atende::api::normalize_destination(text, error)) (void)allow.allows(*d);
  try {
    (void)atende::api::NumberAllowList::compile({text});
  } catch (const std::invalid_argument&) {
  }

  static const atende::api::ApiAuth auth = [] {
    atende::api::ApiAuth a;
    a.add({.name = "t", .token = "fuzz-secret-0123456789", .allow = {}});
    return a;
  }();
  (void)auth.authenticate(&text);
  return 0;
}
