// The query string of GET /api/calls turned into a store::CallQuery, refusing anything it
// does not understand with a message that names the parameter (the route answers 400).
//
//   std::string error;
//   auto q = parse_call_list_query(request.query, error);  // ?flow=menu&before=c18f...
//   if (!q) return HttpResponse::error(400, error);
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "store/call_query.h"

namespace atende::api {

std::optional<store::CallQuery> parse_call_list_query(
    const std::map<std::string, std::string>& query, std::string& error);

// "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.123Z" (also "+00:00" for "Z") or unix
// milliseconds ("1714564800123") -> unix ms; nullopt for anything else.
std::optional<int64_t> parse_time_param(std::string_view text);

}  // namespace atende::api
