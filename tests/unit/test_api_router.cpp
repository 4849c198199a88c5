#include <gtest/gtest.h>

#include "api/http_server.h"
#include "api/query.h"
#include "api/router.h"

namespace atende::api {
namespace {

HttpResponse ok(const HttpRequest&) { return HttpResponse::text(200, "ok"); }

HttpRequest request(std::string method, std::string target) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  return r;
}

TEST(Router, MatchesLiteralAndCapturedSegments) {
  Router r;
  r.add("GET", "/api/calls", ok);
  r.add("GET", "/api/calls/{id}", ok);
  r.add("GET", "/api/calls/{id}/events/{n}", ok);
  auto m = r.match("GET", "/api/calls/abc%20d/events/3");
  ASSERT_EQ(m.kind, Router::Match::kFound);
  EXPECT_EQ(m.params.at("id"), "abc d");
  EXPECT_EQ(m.params.at("n"), "3");
  EXPECT_EQ(r.match("GET", "/api/calls").kind, Router::Match::kFound);
  EXPECT_EQ(r.match("GET", "/api/calls/").kind, Router::Match::kNotFound);  // empty capture
  EXPECT_EQ(r.match("GET", "/api//calls").kind, Router::Match::kNotFound);
  EXPECT_EQ(r.match("GET", "/api/calls/x/y").kind, Router::Match::kNotFound);
  EXPECT_EQ(r.match("GET", "").kind, Router::Match::kBadPath);
  EXPECT_EQ(r.match("GET", "http://h/api/calls").kind, Router::Match::kBadPath);
  EXPECT_EQ(r.match("GET", "/api/calls/%zz").kind, Router::Match::kBadPath);
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "/a";
  EXPECT_EQ(r.match("GET", deep).kind, Router::Match::kNotFound);
}

TEST(Router, ReportsAllowedMethodsFor405) {
  Router r;
  r.add("GET", "/x/{id}", ok);
  r.add("POST", "/x/{id}", ok);
  r.add("GET", "/x/{id}", ok);
  auto m = r.match("DELETE", "/x/1");
  EXPECT_EQ(m.kind, Router::Match::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, POST");
  EXPECT_THROW(r.add("GET", "no-slash", ok), std::invalid_argument);
}

TEST(Query, DecodesAndBoundsParameters) {
  auto q = parse_query("a=1&b=x+y%21&a=2&&flag&c=");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->at("a"), "1");  // first wins
  EXPECT_EQ(q->at("b"), "x y!");
  EXPECT_EQ(q->at("flag"), "");
  EXPECT_EQ(q->at("c"), "");
  EXPECT_FALSE(parse_query("a=%"));
  EXPECT_FALSE(parse_query("a=%4"));
  EXPECT_FALSE(parse_query("a=%g0"));
  std::string many;
  for (int i = 0; i < 40; ++i) many += "k" + std::to_string(i) + "=1&";
  EXPECT_FALSE(parse_query(many));

  std::string err;
  std::map<std::string, std::string> params{{"n", "12"}, {"bad", "1e3"}, {"neg", "-3"}};
  EXPECT_EQ(int_param(params, "n", 5, 1, 100, err), 12);
  EXPECT_EQ(int_param(params, "absent", 5, 1, 100, err), 5);
  EXPECT_FALSE(int_param(params, "bad", 5, 1, 100, err));
  EXPECT_NE(err.find("'bad'"), std::string::npos);
  EXPECT_FALSE(int_param(params, "neg", 5, 0, 100, err));
  EXPECT_FALSE(int_param(params, "n", 5, 1, 10, err));
}

TEST(Dispatch, MapsRouterResultsToStatusCodes) {
  HttpServer s;
  s.route("GET", "/echo/{v}", [](const HttpRequest& r) {
    return HttpResponse::text(200, r.path_params.at("v") + "|" + r.query.at("q"));
  });
  HttpRequest req = request("GET", "/echo/a%2Fb?q=1%202");
  EXPECT_EQ(s.dispatch(req).body, "a/b|1 2");
  HttpRequest bad_query = request("GET", "/echo/a?q=%");
  EXPECT_EQ(s.dispatch(bad_query).status, 400);
  HttpRequest post = request("POST", "/echo/a");
  auto r = s.dispatch(post);
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].second, "GET");
  HttpRequest star = request("OPTIONS", "*");
  EXPECT_EQ(s.dispatch(star).status, 400);
}

}  // namespace
}  // namespace atende::api
