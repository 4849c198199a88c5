// Parsing of request targets: percent-decoding, query strings, bounded integer parameters.
// Everything here sees raw network bytes, so every function reports malformed input as an
// error instead of guessing.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace atende::api {

// Decodes %XX escapes (and '+' as space when `plus_is_space`). nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

// Splits "a=1&b=two" into decoded pairs (first value of a repeated key wins).
// nullopt on a bad escape or more than `max_params` parameters.
std::optional<std::map<std::string, std::string>> parse_query(std::string_view query,
                                                              size_t max_params = 32);

// Reads an integer parameter: absent -> `fallback`; present -> must be a plain decimal in
// [min, max]. On failure returns nullopt and sets `error` to a message for a 400 reply.
std::optional<int> int_param(const std::map<std::string, std::string>& query,
                             const std::string& name, int fallback, int min, int max,
                             std::string& error);

}  // namespace atende::api
