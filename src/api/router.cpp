#include "api/router.h"

#include <stdexcept>

#include "api/query.h"

namespace atende::api {

namespace {

constexpr size_t kMaxSegments = 32;

// "/a/b" -> {"a", "b"}; "/" -> {}. Empty inner segments ("/a//b") are kept so they never
// match a pattern.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.size() <= 1) return out;
  path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool is_capture(std::string_view seg) {
  return seg.size() >= 3 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

void Router::add(std::string method, std::string_view pattern, Handler handler) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  }
  Route r{std::move(method), {}, std::move(handler)};
  for (auto seg : split_path(pattern)) r.segments.emplace_back(seg);
  routes_.push_back(std::move(r));
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match result;
  if (path.empty() || path.front() != '/') {
    result.kind = Match::kBadPath;
    return result;
  }
  const auto segs = split_path(path);
  if (segs.size() > kMaxSegments) return result;  // kNotFound: no route is that deep

  for (const Route& route : routes_) {
    if (route.segments.size() != segs.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      const std::string& want = route.segments[i];
      if (is_capture(want)) {
        auto decoded = percent_decode(segs[i], false);
        if (!decoded) {
          result.kind = Match::kBadPath;
          return result;
        }
        if (decoded->empty()) {
          ok = false;
        } else {
          params[want.substr(1, want.size() - 2)] = std::move(*decoded);
        }
      } else {
        ok = segs[i] == want;
      }
    }
    if (!ok) continue;
    if (route.method == method) {
      result.kind = Match::kFound;
      result.handler = &route.handler;
      result.params = std::move(params);
      return result;
    }
    if (result.allow.find(route.method) == std::string::npos) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += route.method;
    }
    result.kind = Match::kMethodNotAllowed;
  }
  return result;
}

std::vector<Router::RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const Route& r : routes_) {
    std::string pattern;
    for (const auto& seg : r.segments) pattern += "/" + seg;
    out.push_back({r.method, pattern.empty() ? "/" : pattern});
  }
  return out;
}

}  // namespace atende::api
