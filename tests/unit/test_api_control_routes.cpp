// The REST API's write side over a real socket, with a fake CallControl and a fake clock:
// tokens, rates, the failed-auth cap, allow-lists, body validation, error mapping and the
// audit row every write leaves. No sleeps, no timed assertions.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/api_routes.h"
#include "api/control_routes.h"
#include "api/http_server.h"
#include "test_api_client.h"

namespace atende::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::http_request;
using test::Reply;

constexpr const char* kCrmSecret = "crm-secret-0123456789abcdef";
constexpr const char* kReaderSecret = "reader-secret-0123456789abc";

// Records what the API asked for; answers as told.
class FakeCallControl : public sessions::CallControl {
 public:
  std::vector<sessions::SessionSummary> list() const override { return {}; }
  sessions::ControlResult<std::string> originate(sessions::OriginateRequest request) override {
    std::lock_guard lock(mutex_);
    originated.push_back(std::move(request));
    if (originate_error) return *originate_error;
    return "call-" + std::to_string(originated.size());
  }
  sessions::ControlResult<sessions::Done> hangup(const std::string& call_id) override {
    std::lock_guard lock(mutex_);
    hung_up.push_back(call_id);
    if (call_id == "live") return sessions::Done{};
    if (call_id == "ended")
      return sessions::ControlError{sessions::ControlErrc::kConflict, "already ended"};
    return sessions::ControlError{sessions::ControlErrc::kNotFound, "call not found"};
  }
  sessions::ControlResult<sessions::Done> transfer(const std::string&,
                                                   const std::string&) override {
    return sessions::Done{};
  }
  sessions::ControlResult<sessions::Done> bridge(const std::string& a,
                                                 const std::string& b) override {
    std::lock_guard lock(mutex_);
    bridged.emplace_back(a, b);
    if (a == "live") return sessions::Done{};
    return sessions::ControlError{sessions::ControlErrc::kNotFound, "no such call"};
  }
  std::vector<std::pair<std::string, std::string>> bridged;
  Subscription subscribe(std::function<void(const sessions::SessionEvent&)>) override { return 1; }
  void unsubscribe(Subscription) override {}

  std::mutex mutex_;
  std::vector<sessions::OriginateRequest> originated;
  std::vector<std::string> hung_up;
  std::optional<sessions::ControlError> originate_error;
};

class ControlRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("atende-control-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = std::make_unique<store::CallStore>(
        store::CallStoreOptions{.path = (dir_ / "calls.db").string()});
    log_ = std::make_shared<std::ostringstream>();
    previous_logger_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(*log_)));
  }
  void TearDown() override {
    server_.reset();
    store_.reset();
    spdlog::set_default_logger(previous_logger_);
    fs::remove_all(dir_);
  }

  void start(bool read_requires_token = false, int crm_burst = 10) {
    ApiAuth auth;
    auth.add({.name = "crm",
              .token = kCrmSecret,
              .allow = {"+5511*", "2xxx", "sip:support@pbx.example.com"},
              .rate_per_minute = 60,
              .burst = crm_burst});
    auth.add({.name = "reader", .token = kReaderSecret});  // no allow: may not dial
    auth.set_read_requires_token(read_requires_token);
    server_ = std::make_unique<HttpServer>();
    install_api_routes(*server_, {.store = store_.get(), .metrics = nullptr, .ready = nullptr});
    install_control_routes(
        *server_, {.control = &control_,
                   .store = store_.get(),
                   .auth = std::move(auth),
                   .failed_auth_per_minute = 20,
                   .now = [this] { return MonoTime(std::chrono::milliseconds(now_ms_.load())); }});
    server_->start("127.0.0.1", 0);
    ASSERT_NE(server_->port(), 0);
  }
  void advance(std::chrono::milliseconds d) { now_ms_ += d.count(); }

  Reply post(const std::string& target, const std::string& body, const char* secret = kCrmSecret,
             const std::string& content_type = "application/json") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (secret) headers.emplace_back("Authorization", std::string("Bearer ") + secret);
    if (!content_type.empty()) headers.emplace_back("Content-Type", content_type);
    return http_request(server_->port(), "POST", target, headers, body);
  }
  Reply get(const std::string& target, const char* secret = nullptr) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (secret) headers.emplace_back("Authorization", std::string("Bearer ") + secret);
    return http_request(server_->port(), "GET", target, headers);
  }
  static std::string error_of(const Reply& r) {
    try {
      return json::parse(r.body).at("error").get<std::string>();
    } catch (...) {
      return "<no error field: " + r.body + ">";
    }
  }
  std::vector<store::AuditEntry> audit() {
    store_->flush();
    return store_->list_audit(1000, 0);
  }
  size_t dialled() {
    std::lock_guard lock(control_.mutex_);
    return control_.originated.size();
  }

  fs::path dir_;
  std::unique_ptr<store::CallStore> store_;
  FakeCallControl control_;
  std::atomic<int64_t> now_ms_{1'000'000};
  std::unique_ptr<HttpServer> server_;
  std::shared_ptr<std::ostringstream> log_;
  std::shared_ptr<spdlog::logger> previous_logger_;
};

const std::string kCall = R"({"to": "+55 (11) 99999-0000", "flow": "menu"})";

TEST_F(ControlRoutesTest, NoTokenIs401WithBearerChallengeAndAudited) {
  start();
  Reply r = post("/api/calls", kCall, nullptr);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(error_of(r), "missing or invalid API token");
  EXPECT_EQ(dialled(), 0u);
  const auto rows = audit();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, 401);
  EXPECT_EQ(rows[0].token_name, "");
  EXPECT_EQ(rows[0].method, "POST");
  EXPECT_EQ(rows[0].path, "/api/calls");
  EXPECT_EQ(rows[0].source, "127.0.0.1");
  EXPECT_EQ(rows[0].detail, "refused: no token");
}

TEST_F(ControlRoutesTest, WrongTokenIs401WithTheSameMessage) {
  start();
  const Reply missing = post("/api/calls", kCall, nullptr);
  for (const char* header :
       {"Bearer wrong-secret-0123456789abcdef", "Bearer crm-secret-0123456789abcde",
        "Bearer crm-secret-0123456789abcdefX", "Basic Y3JtOnNlY3JldA==", "Bearer",
        "crm-secret-0123456789abcdef"}) {
    Reply r =
        http_request(server_->port(), "POST", "/api/calls",
                     {{"Authorization", header}, {"Content-Type", "application/json"}}, kCall);
    EXPECT_EQ(r.status, 401) << header;
    EXPECT_EQ(r.body, missing.body) << header;  // nothing tells which
    EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer") << header;
  }
  EXPECT_EQ(dialled(), 0u);
  const auto rows = audit();
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[0].detail, "refused: invalid token");
  // The case of the scheme does not matter (RFC 7235).
  EXPECT_EQ(http_request(server_->port(), "POST", "/api/calls",
                         {{"Authorization", std::string("bearer  ") + kCrmSecret},
                          {"Content-Type", "application/json"}},
                         kCall)
                .status,
            202);
}

TEST_F(ControlRoutesTest, RightTokenPlacesTheCallAndIsAudited) {
  start();
  Reply r = post("/api/calls",
                 R"({"to": "+55 (11) 99999-0000", "flow": "menu", "trunk": "carrier1",
                     "caller_id": "+55 11 3000-0000", "variables": {"name": "Ana", "order_id": "42"},
                     "ring_timeout": 20})");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(json::parse(r.body), json({{"id", "call-1"}}));
  EXPECT_EQ(r.header("Location"), "/api/calls/call-1");
  ASSERT_EQ(dialled(), 1u);
  const auto& call = control_.originated[0];
  EXPECT_EQ(call.to, "+5511999990000");
  EXPECT_EQ(call.flow, "menu");
  EXPECT_EQ(call.persona, "");
  EXPECT_EQ(call.trunk, "carrier1");
  EXPECT_EQ(call.caller_id, "+551130000000");
  EXPECT_EQ(call.variables,
            (std::map<std::string, std::string>{{"name", "Ana"}, {"order_id", "42"}}));
  EXPECT_EQ(call.ring_timeout_seconds, 20);
  EXPECT_EQ(call.requested_by, "crm");

  const auto rows = audit();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, 202);
  EXPECT_EQ(rows[0].token_name, "crm");
  EXPECT_NE(rows[0].detail.find("to=+5511999990000"), std::string::npos) << rows[0].detail;
  EXPECT_NE(rows[0].detail.find("flow=menu"), std::string::npos) << rows[0].detail;
  EXPECT_NE(rows[0].detail.find("id=call-1"), std::string::npos) << rows[0].detail;
  EXPECT_EQ(rows[0].detail.find("Ana"), std::string::npos) << "variable values stay out";

  // Defaults: ring_timeout 30, persona instead of flow, a SIP URI on the list.
  ASSERT_EQ(
      post("/api/calls", R"({"to": "sip:support@pbx.example.com", "persona": "sales"})").status,
      202);
  EXPECT_EQ(control_.originated[1].ring_timeout_seconds, 30);
  EXPECT_EQ(control_.originated[1].persona, "sales");
  EXPECT_EQ(control_.originated[1].to, "sip:support@pbx.example.com");
}

TEST_F(ControlRoutesTest, StartCallTakesSeed002sShape) {
  start();
  Reply r = post("/api/start_call",
                 R"({"phone_number": "+5511912345678", "persona": "restaurante",
                     "customer_name": "Nome do Cliente"})");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(json::parse(r.body), json({{"id", "call-1"}, {"status", "dialing"}}));
  ASSERT_EQ(dialled(), 1u);
  EXPECT_EQ(control_.originated[0].to, "+5511912345678");
  EXPECT_EQ(control_.originated[0].persona, "restaurante");
  EXPECT_EQ(control_.originated[0].flow, "");
  EXPECT_EQ(control_.originated[0].variables.at("customer_name"), "Nome do Cliente");
  EXPECT_EQ(control_.originated[0].requested_by, "crm");

  EXPECT_EQ(post("/api/start_call", R"({"phone_number": "+5511912345678"})").status, 400);
  EXPECT_EQ(
      post("/api/start_call", R"({"phone_number": "+5511912345678", "persona": "x", "flow": "y"})")
          .status,
      400);
  EXPECT_EQ(post("/api/start_call", R"({"phone_number": "+4420", "persona": "x"})").status, 403);
  EXPECT_EQ(
      post("/api/start_call", R"({"phone_number": "+5511912345678", "persona": "x"})", nullptr)
          .status,
      401);
  EXPECT_EQ(dialled(), 1u);
  EXPECT_EQ(audit().size(), 5u);
}

TEST_F(ControlRoutesTest, OverTheRateIs429WithRetryAfter) {
  start(false, /*crm_burst=*/2);
  EXPECT_EQ(post("/api/calls", kCall).status, 202);
  EXPECT_EQ(post("/api/calls", kCall).status, 202);
  Reply r = post("/api/calls", kCall);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.header("Retry-After"), "1");  // 60 per minute: one a second
  EXPECT_EQ(error_of(r), "rate limit exceeded for this token");
  EXPECT_EQ(dialled(), 2u);
  // Other tokens have their own bucket.
  EXPECT_EQ(post("/api/calls/live/hangup", "", kReaderSecret, "").status, 200);
  advance(std::chrono::seconds(1));
  EXPECT_EQ(post("/api/calls", kCall).status, 202);
  EXPECT_EQ(dialled(), 3u);
  const auto rows = audit();
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[2].status, 429);
  EXPECT_EQ(rows[2].token_name, "crm");
  EXPECT_EQ(rows[2].detail, "refused: over the token's rate");
}

TEST_F(ControlRoutesTest, FailedAuthenticationsPerAddressAreCapped) {
  start();
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(post("/api/calls", kCall, "guess-0123456789abcdef").status, 401) << i;
  }
  // The address is now locked out, even with the right token: guessing costs time.
  Reply r = post("/api/calls", kCall);
  EXPECT_EQ(r.status, 429);
  const int retry = std::stoi(r.header("Retry-After"));
  EXPECT_GE(retry, 1);
  EXPECT_EQ(post("/api/calls", kCall, "guess-0123456789abcdef").status, 429);
  EXPECT_EQ(dialled(), 0u);
  advance(std::chrono::seconds(retry));
  EXPECT_EQ(post("/api/calls", kCall).status, 202);
  const auto rows = audit();
  ASSERT_EQ(rows.size(), 23u);
  EXPECT_EQ(rows[1].status, 429);
  EXPECT_EQ(rows[1].detail, "refused: too many failed authentications from this address");
}

TEST_F(ControlRoutesTest, OutsideTheAllowListIs403AndNothingIsDialled) {
  start();
  Reply r = post("/api/calls", R"({"to": "+44 20 7946 0000", "flow": "menu"})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_of(r), "number '+442079460000' is not in this token's allow-list");
  // A token with no allow-list may dial nothing at all.
  Reply none = post("/api/calls", kCall, kReaderSecret);
  EXPECT_EQ(none.status, 403);
  EXPECT_EQ(error_of(none), "number '+5511999990000' is not in this token's allow-list");
  EXPECT_EQ(post("/api/calls", R"({"to": "sip:other@pbx.example.com", "flow": "menu"})").status,
            403);
  EXPECT_EQ(post("/api/calls", R"({"to": "20000", "flow": "menu"})").status, 403);
  EXPECT_EQ(post("/api/calls", R"({"to": "2000", "flow": "menu"})").status, 202);
  EXPECT_EQ(dialled(), 1u);
  const auto rows = audit();
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[4].status, 403);
  EXPECT_EQ(rows[4].detail, "to=+442079460000 flow=menu -> not allowed");
  EXPECT_EQ(rows[3].token_name, "reader");
}

TEST_F(ControlRoutesTest, BadBodiesAre400WithTheReason) {
  start(false, /*crm_burst=*/1000);
  struct Case {
    std::string body;
    std::string error;
  };
  const Case cases[] = {
      {R"({"to": "2302", "flow": )", "bad JSON: syntax error at byte 24"},
      {"{\"to\": \"secret-looking-input\" flow}", "bad JSON: syntax error at byte 32"},
      {"[1, 2]", "bad JSON: the body must be a JSON object"},
      {R"({"to": "2302", "flow": "menu", "ring_timeout": 227e8720})",
       "bad JSON: number out of range"},
      {"", "bad JSON: syntax error at byte 1"},
      {std::string(20, '[') + std::string(20, ']'), "bad JSON: nested deeper than 8 levels"},
      {R"({"to": "2302", "flow": "menu", "colour": "red"})", "unknown field 'colour'"},
      {R"({"to": 2302, "flow": "menu"})", "field 'to' must be a string"},
      {R"({"to": "2302", "flow": ["menu"]})", "field 'flow' must be a string"},
      {R"({"flow": "menu"})", "field 'to' is required"},
      {R"({"to": "2302"})", "exactly one of 'flow' or 'persona' is required"},
      {R"({"to": "2302", "flow": "menu", "persona": "sales"})",
       "exactly one of 'flow' or 'persona' is required"},
      {R"({"to": "2302", "flow": "../etc"})",
       "field 'flow' must be 1-64 letters, digits, '_', '-' or '.'"},
      {R"({"to": "2302; DROP", "flow": "menu"})",
       "field 'to': a number may hold only '+', digits, '*' and '#' (and spaces, '-', '.', '(', "
       "')')"},
      {R"({"to": ")" + std::string(65, '1') + R"(", "flow": "menu"})",
       "field 'to': the number is longer than 64 characters"},
      {R"({"to": "2302", "flow": "menu", "variables": ["a"]})",
       "field 'variables' must be an object of strings"},
      {R"({"to": "2302", "flow": "menu", "variables": {"n": 5}})", "variable 'n' must be a string"},
      {R"({"to": "2302", "flow": "menu", "variables": {"a b": "x"}})",
       "variable 'a b': names are 1-64 letters, digits and '_'"},
      {R"({"to": "2302", "flow": "menu", "variables": {"n": ")" + std::string(1025, 'v') + R"("}})",
       "variable 'n' is longer than 1024 bytes"},
      {R"({"to": "2302", "flow": "menu", "ring_timeout": "30"})",
       "field 'ring_timeout' must be an integer (seconds) in 1..300"},
      {R"({"to": "2302", "flow": "menu", "ring_timeout": 0})",
       "field 'ring_timeout' must be an integer (seconds) in 1..300"},
      {R"({"to": "2302", "flow": "menu", "ring_timeout": 1.5})",
       "field 'ring_timeout' must be an integer (seconds) in 1..300"},
      {R"({"to": "2302", "flow": "menu", "caller_id": "sip:x@y"})",
       "field 'caller_id' must be a number"},
  };
  for (const Case& c : cases) {
    Reply r = post("/api/calls", c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    EXPECT_EQ(error_of(r), c.error) << c.body;
  }
  std::string many = R"({"to": "2302", "flow": "menu", "variables": {)";
  for (int i = 0; i < 33; ++i) many += (i ? ", " : "") + ("\"v" + std::to_string(i) + "\": \"x\"");
  many += "}}";
  EXPECT_EQ(error_of(post("/api/calls", many)), "field 'variables' has more than 32 entries");

  Reply type = post("/api/calls", kCall, kCrmSecret, "text/plain");
  EXPECT_EQ(type.status, 415);
  EXPECT_EQ(post("/api/calls", kCall, kCrmSecret, "").status, 415);
  EXPECT_EQ(post("/api/calls", kCall, kCrmSecret, "Application/JSON; charset=utf-8").status, 202);
  EXPECT_EQ(post("/api/calls", "{\"to\": \"2302\", \"flow\": \"" + std::string(70000, 'm') + "\"}")
                .status,
            413);

  EXPECT_EQ(dialled(), 1u);
  const auto rows = audit();
  ASSERT_EQ(rows.size(), std::size(cases) + 5);
  for (const auto& row : rows) {
    EXPECT_EQ(row.detail.find("secret-looking-input"), std::string::npos) << row.detail;
    EXPECT_LE(row.detail.size(), 520u);
  }
  EXPECT_EQ(rows.back().status, 400);
  EXPECT_EQ(rows.back().detail, "bad JSON: syntax error at byte 24");
}

TEST_F(ControlRoutesTest, CallControlErrorsMapToStatuses) {
  start();
  const std::pair<sessions::ControlErrc, int> cases[] = {{sessions::ControlErrc::kInvalid, 400},
                                                         {sessions::ControlErrc::kNotFound, 404},
                                                         {sessions::ControlErrc::kForbidden, 403},
                                                         {sessions::ControlErrc::kUnavailable, 503},
                                                         {sessions::ControlErrc::kConflict, 409}};
  for (const auto& [code, status] : cases) {
    control_.originate_error = sessions::ControlError{code, "unknown flow 'menu'"};
    Reply r = post("/api/calls", kCall);
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(error_of(r), "unknown flow 'menu'");
  }
  const auto rows = audit();
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].status, 409);
  EXPECT_EQ(rows[0].detail, "to=+5511999990000 flow=menu -> unknown flow 'menu'");
}

TEST_F(ControlRoutesTest, HangupAnswers200Or404AndNeedsAToken) {
  start();
  Reply ok = post("/api/calls/live/hangup", "", kReaderSecret, "");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(json::parse(ok.body), json({{"id", "live"}, {"status", "hanging_up"}}));
  EXPECT_EQ(post("/api/calls/nope/hangup", "", kReaderSecret, "").status, 404);
  EXPECT_EQ(post("/api/calls/ended/hangup", "", kReaderSecret, "").status, 409);
  EXPECT_EQ(post("/api/calls/" + std::string(300, 'x') + "/hangup", "", kReaderSecret, "").status,
            404);
  EXPECT_EQ(post("/api/calls/live/hangup", "", nullptr, "").status, 401);
  EXPECT_EQ(control_.hung_up, (std::vector<std::string>{"live", "nope", "ended"}));
  const auto rows = audit();
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[4].detail, "id=live");
  EXPECT_EQ(rows[4].token_name, "reader");
  EXPECT_EQ(rows[4].path, "/api/calls/live/hangup");
}

TEST_F(ControlRoutesTest, BridgeTakesTheOtherCallsIdAndNamesBadBodies) {
  start();
  Reply ok = post("/api/calls/live/bridge", R"({"with":"other"})", kReaderSecret);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(json::parse(ok.body),
            json({{"id", "live"}, {"with", "other"}, {"status", "bridging"}}));
  EXPECT_EQ(post("/api/calls/nope/bridge", R"({"with":"other"})", kReaderSecret).status, 404);
  Reply bad = post("/api/calls/live/bridge", R"({"with":7})", kReaderSecret);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("with"), std::string::npos);
  EXPECT_EQ(post("/api/calls/live/bridge", R"({"with":"a","x":1})", kReaderSecret).status, 400);
  EXPECT_EQ(post("/api/calls/live/bridge", "{nope", kReaderSecret).status, 400);
  EXPECT_EQ(post("/api/calls/live/bridge", R"({"with":"other"})", nullptr).status, 401);
  EXPECT_EQ(control_.bridged.size(), 2u);
}

TEST_F(ControlRoutesTest, AuditListNeedsATokenAndNeverHoldsSecrets) {
  start();
  post("/api/calls", kCall, nullptr);
  post("/api/calls", kCall, "wrong-0123456789abcdef");
  post("/api/calls", kCall);
  post("/api/calls", R"({"to": "+4420", "flow": "menu"})");
  store_->flush();
  EXPECT_EQ(get("/api/audit").status, 401);
  EXPECT_EQ(get("/api/audit", "wrong-0123456789abcdef").status, 401);
  Reply r = get("/api/audit", kReaderSecret);
  ASSERT_EQ(r.status, 200) << r.body;
  auto rows = json::parse(r.body);
  ASSERT_EQ(rows.size(), 4u);  // reads are not audited
  EXPECT_EQ(rows[0]["status"], 403);
  EXPECT_EQ(rows[1]["status"], 202);
  EXPECT_EQ(rows[1]["token"], "crm");
  EXPECT_EQ(rows[3]["status"], 401);
  EXPECT_TRUE(rows[0].contains("at"));
  auto page = json::parse(get("/api/audit?limit=1&offset=1", kReaderSecret).body);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0]["status"], 202);
  EXPECT_EQ(get("/api/audit?limit=0", kReaderSecret).status, 400);

  for (const char* secret : {kCrmSecret, kReaderSecret, "wrong-0123456789abcdef"}) {
    EXPECT_EQ(r.body.find(secret), std::string::npos);
    EXPECT_EQ(log_->str().find(secret), std::string::npos) << log_->str();
  }
  EXPECT_NE(log_->str().find("token crm"), std::string::npos) << log_->str();
}

TEST_F(ControlRoutesTest, ReadsStayOpenUnlessConfiguredOtherwise) {
  start();
  EXPECT_EQ(get("/api/calls").status, 200);
  EXPECT_EQ(get("/api/calls/nope").status, 404);
  EXPECT_EQ(get("/healthz").status, 200);
  EXPECT_TRUE(audit().empty());
}

TEST_F(ControlRoutesTest, ReadsNeedATokenWhenConfigured) {
  start(/*read_requires_token=*/true);
  Reply r = get("/api/calls");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(get("/api/calls", kReaderSecret).status, 200);
  EXPECT_EQ(get("/healthz").status, 200);           // probes stay open
  EXPECT_EQ(get("/metrics").status, 404);           // (not installed here)
  EXPECT_NE(get("/api/openapi.json").status, 401);  // says how to authenticate: open
  // Reads do not spend the token's rate (burst 10 here): a console pages freely.
  for (int i = 0; i < 30; ++i) ASSERT_EQ(get("/api/calls", kReaderSecret).status, 200);
  EXPECT_TRUE(audit().empty());
}

TEST_F(ControlRoutesTest, EveryWriteUnderApiIsGuardedEvenUnknownOnes) {
  start();
  // Without a token nothing about the routes leaks: 401, not 404 or 405.
  EXPECT_EQ(http_request(server_->port(), "DELETE", "/api/calls/x").status, 401);
  EXPECT_EQ(http_request(server_->port(), "PUT", "/api/whatever").status, 401);
  EXPECT_EQ(post("/api/nope?x=%zz", "{}", nullptr).status, 401);
  Reply nf = post("/api/nope", "{}");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(post("/healthz", "{}", nullptr).status, 405);  // not under /api: as before
  const auto rows = audit();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].status, 404);
  EXPECT_EQ(rows[0].token_name, "crm");
  EXPECT_EQ(rows[3].method, "DELETE");
}

TEST(ControlRoutesNoControl, OnlyGuardAndAuditAreInstalled) {
  HttpServer server;
  install_control_routes(server, {});
  HttpRequest req;
  req.method = "POST";
  req.target = "/api/calls";
  EXPECT_EQ(server.dispatch(req).status, 401);  // no tokens at all: nothing gets in
}

TEST(ControlRoutesStatus, ControlErrcMapping) {
  EXPECT_EQ(http_status(sessions::ControlErrc::kInvalid), 400);
  EXPECT_EQ(http_status(sessions::ControlErrc::kNotFound), 404);
  EXPECT_EQ(http_status(sessions::ControlErrc::kForbidden), 403);
  EXPECT_EQ(http_status(sessions::ControlErrc::kUnavailable), 503);
  EXPECT_EQ(http_status(sessions::ControlErrc::kConflict), 409);
}

TEST(ApiAuthFromConfig, BadPatternIsAConfigErrorNamingTheToken) {
  Config cfg;
  cfg.api_tokens.push_back({.name = "crm", .token = kCrmSecret, .allow = {"+55abc"}});
  try {
    ApiAuth::from_config(cfg);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'crm'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("+55abc"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find(kCrmSecret), std::string::npos) << e.what();
  }
  EXPECT_THROW(ApiAuth().add({.name = "short", .token = "0123456789abcde"}), std::invalid_argument);
  cfg.api_tokens[0].allow = {"+55*"};
  const ApiAuth auth = ApiAuth::from_config(cfg);
  EXPECT_TRUE(auth.read_requires_token());  // the default once there are tokens
  cfg.api_read_requires_token = false;
  EXPECT_FALSE(ApiAuth::from_config(cfg).read_requires_token());
  EXPECT_FALSE(ApiAuth::from_config(Config{}).read_requires_token());  // no tokens: open
  const std::string header = std::string("Bearer ") + kCrmSecret;
  ASSERT_NE(auth.authenticate(&header), nullptr);
  EXPECT_EQ(auth.authenticate(&header)->name, "crm");
  EXPECT_EQ(auth.authenticate(nullptr), nullptr);
}

}  // namespace
}  // namespace atende::api
