// Protocol-neutral request/response types for route handlers, so handlers never see Beast.
#pragma once
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atende::api {

struct HttpRequest {
  std::string method;                              // "GET", "POST", ...
  std::string target;                              // as received, e.g. "/api/calls?limit=5"
  std::string path;                                // target without the query, not decoded
  std::map<std::string, std::string> query;        // percent-decoded; first value wins
  std::map<std::string, std::string> path_params;  // from "{name}" segments, decoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;  // the client's IP address; empty when not from a socket
  std::string principal;       // the API token's name once a middleware authenticated it

  // Case-insensitive header lookup; nullptr when absent.
  const std::string* header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  // What the request asked for, in words for the audit log ("to=+5511... flow=menu");
  // never sent to the client, never a secret or the body verbatim.
  std::string audit_detail;

  // Serialises `j`; invalid UTF-8 in strings (e.g. from a SIP header) is replaced, not thrown.
  static HttpResponse json(int status, const nlohmann::json& j);
  static HttpResponse text(int status, std::string body,
                           std::string content_type = "text/plain; charset=utf-8");
  // {"error": message} with the given status.
  static HttpResponse error(int status, std::string_view message);
};

}  // namespace atende::api
