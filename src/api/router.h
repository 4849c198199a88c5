// Maps (method, path) to a handler. Patterns are literal segments and "{name}" segments
// that capture one non-empty, percent-decoded segment:
//
//   router.add("GET", "/api/calls/{id}", [](const HttpRequest& r) {
//     return HttpResponse::text(200, r.path_params.at("id"));
//   });
//
// A path that matches a pattern under another method gives 405 with an Allow list.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"

namespace atende::api {

using Handler = std::function<HttpResponse(const HttpRequest&)>;

class Router {
 public:
  // Throws std::invalid_argument on a pattern that does not start with '/'.
  void add(std::string method, std::string_view pattern, Handler handler);

  struct Match {
    enum Kind { kFound, kNotFound, kMethodNotAllowed, kBadPath } kind = kNotFound;
    const Handler* handler = nullptr;
    std::map<std::string, std::string> params;
    std::string allow;  // for kMethodNotAllowed: "GET, POST"
  };
  // `path` is the raw (undecoded) path of the target, without query.
  Match match(std::string_view method, std::string_view path) const;

  // Every route added, in order: what the OpenAPI document is checked against.
  struct RouteInfo {
    std::string method;
    std::string pattern;  // as given to add(): "/api/calls/{id}"
  };
  std::vector<RouteInfo> routes() const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" for captures
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace atende::api
