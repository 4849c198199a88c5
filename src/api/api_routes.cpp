#include "api/api_routes.h"

#include <nlohmann/json.hpp>

#include "api/query.h"

namespace atende::api {

namespace {

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 1000;
constexpr int kMaxOffset = 1'000'000'000;
constexpr size_t kMaxCallIdLength = 256;

HttpResponse list_calls(store::CallStore& store, const HttpRequest& req) {
  std::string error;
  const auto limit = int_param(req.query, "limit", kDefaultLimit, 1, kMaxLimit, error);
  if (!limit) return HttpResponse::error(400, error);
  const auto offset = int_param(req.query, "offset", 0, 0, kMaxOffset, error);
  if (!offset) return HttpResponse::error(400, error);
  auto calls = nlohmann::json::array();
  for (const auto& c : store.list_calls(*limit, *offset)) calls.push_back(to_json(c, false));
  return HttpResponse::json(200, calls);
}

HttpResponse get_call(store::CallStore& store, const HttpRequest& req) {
  const std::string& id = req.path_params.at("id");
  if (id.size() > kMaxCallIdLength) return HttpResponse::error(404, "call not found");
  const auto call = store.get_call(id);
  if (!call) return HttpResponse::error(404, "call not found");
  return HttpResponse::json(200, to_json(*call, true));
}

}  // namespace

void install_api_routes(HttpServer& server, ApiContext ctx) {
  server.route("GET", "/healthz",
               [](const HttpRequest&) { return HttpResponse::text(200, "ok\n"); });
  server.route("GET", "/readyz", [ready = ctx.ready](const HttpRequest&) {
    if (!ready || ready()) return HttpResponse::text(200, "ready\n");
    return HttpResponse::text(503, "not ready\n");
  });
  if (ctx.metrics) {
    server.route("GET", "/metrics", [metrics = ctx.metrics](const HttpRequest&) {
      return HttpResponse::text(200, metrics->render(), "text/plain; version=0.0.4; charset=utf-8");
    });
  }
  if (ctx.store) {
    server.route("GET", "/api/calls",
                 [store = ctx.store](const HttpRequest& r) { return list_calls(*store, r); });
    server.route("GET", "/api/calls/{id}",
                 [store = ctx.store](const HttpRequest& r) { return get_call(*store, r); });
  }
}

}  // namespace atende::api
