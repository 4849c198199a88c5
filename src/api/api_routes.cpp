#include "api/api_routes.h"

#include <chrono>
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

// Call ids are "c" + 11 hex digits of unix ms + 5 of a counter (core/call_id.h).
bool recent_call_id(const std::string& id) {
  if (id.size() != 17 || id[0] != 'c') return false;
  int64_t ms = 0;
  for (size_t i = 1; i < 12; ++i) {
    const char c = id[i];
    const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return false;
    ms = ms * 16 + v;
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return ms <= now + 1000 && now - ms < 60'000;
}

HttpResponse get_call(store::CallStore& store, const HttpRequest& req) {
  const std::string& id = req.path_params.at("id");
  if (id.size() > kMaxCallIdLength) return HttpResponse::error(404, "call not found");
  auto call = store.get_call(id);
  if (!call && recent_call_id(id)) {
    // A call placed a moment ago (POST /api/calls answered 202) may still be in the write
    // queue: wait for the queue once (a commit, milliseconds) before saying it is unknown.
    // Only for ids minted in the last minute, so unknown ids cannot make every 404 wait.
    store.flush();
    call = store.get_call(id);
  }
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
