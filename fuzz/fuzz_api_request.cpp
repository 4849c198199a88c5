// Fuzzes what the HTTP API parses itself (Beast parses the HTTP framing): the query string
// and percent-decoding of paths, and the router's pattern matching with path parameters.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/query.h"
#include "api/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto split = text.find('?');
  const std::string_view path = text.substr(0, split);
  const std::string_view query = split == std::string_view::npos ? "" : text.substr(split + 1);

  (void)atende::api::percent_decode(path, false);
  if (auto params = atende::api::parse_query(query, 64)) {
    std::string error;
    (void)atende::api::int_param(*params, "limit", 50, 1, 1000, error);
  }

  static const atende::api::Router router = [] {
    atende::api::Router r;
    auto ok = [](const atende::api::HttpRequest&) { return atende::api::HttpResponse{}; };
    r.add("GET", "/api/calls", ok);
    r.add("GET", "/api/calls/{id}", ok);
    r.add("GET", "/api/calls/{id}/events/{n}", ok);
    return r;
  }();
  (void)router.match("GET", path);
  (void)router.match("POST", path);
  return 0;
}
