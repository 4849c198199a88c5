#include "api/api_routes.h"

#include <nlohmann/json.hpp>

#include "api/call_list_query.h"

namespace atende::api {

namespace {

constexpr size_t kMaxCallIdLength = 256;

HttpResponse list_calls(store::CallStore& store, const HttpRequest& req) {
  std::string error;
  const auto query = parse_call_list_query(req.query, error);
  if (!query) return HttpResponse::error(400, error);
  // The list holds every write accepted before the request (the store group-commits every
  // 10 ms under load): one commit's wait, none when nothing is queued.
  store.flush();
  const store::CallPage page = store.list_calls(*query);
  if (!page.before_found) {
    return HttpResponse::error(400, "query parameter 'before' names no stored call");
  }
  auto calls = nlohmann::json::array();
  for (const auto& c : page.calls) calls.push_back(to_json(c, false));
  return HttpResponse::json(200, calls);
}

HttpResponse get_call(store::CallStore& store, const HttpRequest& req) {
  const std::string& id = req.path_params.at("id");
  if (id.size() > kMaxCallIdLength) return HttpResponse::error(404, "call not found");
  // The page holds every write accepted before the request, as the list does: a call's
  // end and its legs' ends are separate writes, and under load the store group-commits
  // them up to 10 ms apart. One commit's wait at most, none when nothing is queued. (A
  // call placed a moment ago, POST /api/calls answered 202, is found the same way.)
  store.flush();
  auto call = store.get_call(id);
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
