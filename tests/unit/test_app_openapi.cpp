// The OpenAPI document (src/api/openapi.json) against the route table the server really
// installs (app::install_http_routes, with stand-ins for the call machinery): every route is
// documented with its method, nothing documented is unknown to the router, every $ref
// resolves, and a few routes answer with a status their operation documents. Response
// bodies are validated against the document's schemas by tests/e2e/test_operations.py.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "api/openapi.h"
#include "app/http_routes.h"

namespace atende::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class QuietCallControl : public sessions::CallControl {
 public:
  std::vector<sessions::SessionSummary> list() const override { return {}; }
  sessions::ControlResult<std::string> originate(sessions::OriginateRequest) override {
    return sessions::ControlError{sessions::ControlErrc::kUnavailable, "test"};
  }
  sessions::ControlResult<sessions::Done> hangup(const std::string&) override {
    return sessions::ControlError{sessions::ControlErrc::kNotFound, "call not found"};
  }
  sessions::ControlResult<sessions::Done> transfer(const std::string&,
                                                   const std::string&) override {
    return sessions::ControlError{sessions::ControlErrc::kNotFound, "call not found"};
  }
  sessions::ControlResult<sessions::Done> bridge(const std::string&, const std::string&) override {
    return sessions::ControlError{sessions::ControlErrc::kNotFound, "call not found"};
  }
  Subscription subscribe(std::function<void(const sessions::SessionEvent&)>) override { return 1; }
  void unsubscribe(Subscription) override {}
};

const std::set<std::string> kHttpMethods{"get",     "put",  "post",  "delete",
                                         "options", "head", "patch", "trace"};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("atende-openapi-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    store_ = std::make_unique<store::CallStore>(
        store::CallStoreOptions{.path = (dir_ / "atende.db").string()});
    install_http_routes(
        http_,
        {.store = store_.get(),
         .metrics = &registry_,
         .ready = [] { return true; },
         .control = &control_,
         .trunks = [] { return std::vector<sipfront::TrunkStatus>{{.name = "pbx"}}; },
         .auth = {},
         .audiosocket = {.directory = &directory_,
                         .known = [](const std::string&, bool, std::string*) { return false; }}});
    doc_ = json::parse(api::openapi_document());
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // "GET /api/calls" for every operation the document lists.
  std::set<std::string> documented() const {
    std::set<std::string> out;
    for (const auto& [path, item] : doc_.at("paths").items()) {
      for (const auto& [key, op] : item.items()) {
        if (kHttpMethods.count(key)) {
          std::string method = key;
          for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          out.insert(method + " " + path);
        }
      }
    }
    return out;
  }
  std::set<std::string> routed() const {
    std::set<std::string> out;
    for (const auto& r : http_.routes()) out.insert(r.method + " " + r.pattern);
    return out;
  }
  // The statuses the document lists for one operation.
  std::set<int> statuses(const std::string& method, const std::string& path) const {
    std::set<int> out;
    for (const auto& [code, r] :
         doc_.at("paths").at(path).at(lower(method)).at("responses").items()) {
      out.insert(std::stoi(code));
    }
    return out;
  }
  api::HttpResponse call(const std::string& method, const std::string& path) {
    api::HttpRequest r;
    r.method = method;
    r.target = path;
    r.path = path;
    r.remote_address = "127.0.0.1";
    return http_.dispatch(r);
  }

  fs::path dir_;
  MetricsRegistry registry_;
  QuietCallControl control_;
  audiosocket::SessionDirectory directory_;
  std::unique_ptr<store::CallStore> store_;
  api::HttpServer http_;
  json doc_;
};

TEST_F(OpenApiTest, IsAnOpenApi3DocumentWithPaths) {
  ASSERT_TRUE(doc_.contains("openapi"));
  EXPECT_EQ(doc_["openapi"].get<std::string>().substr(0, 2), "3.");
  EXPECT_TRUE(doc_.at("info").contains("title"));
  EXPECT_TRUE(doc_.at("paths").is_object());
}

TEST_F(OpenApiTest, EveryRouteIsDocumented) {
  const auto docs = documented();
  for (const auto& r : routed()) {
    EXPECT_TRUE(docs.count(r)) << r << " is served but missing from src/api/openapi.json";
  }
}

TEST_F(OpenApiTest, NothingDocumentedIsUnknownToTheRouter) {
  const auto routes = routed();
  for (const auto& d : documented()) {
    EXPECT_TRUE(routes.count(d)) << d << " is in src/api/openapi.json but no route serves it";
  }
}

TEST_F(OpenApiTest, EveryOperationDocumentsAResponseAndPathParameters) {
  for (const auto& [path, item] : doc_.at("paths").items()) {
    for (const auto& [key, op] : item.items()) {
      if (!kHttpMethods.count(key)) continue;
      EXPECT_FALSE(op.value("responses", json::object()).empty()) << key << " " << path;
    }
    // Each {name} in the path needs a path parameter of that name (on the path item).
    for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
      const std::string name = path.substr(open + 1, path.find('}', open) - open - 1);
      bool found = false;
      for (const auto& p : item.value("parameters", json::array())) {
        json param = p;
        if (p.contains("$ref")) {
          const std::string ref = p["$ref"];
          param = doc_.at(json::json_pointer(ref.substr(1)));
        }
        found = found || (param.value("in", "") == "path" && param.value("name", "") == name);
      }
      EXPECT_TRUE(found) << path << " has no path parameter '" << name << "'";
    }
  }
}

void collect_refs(const json& j, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == "$ref" && v.is_string()) out.push_back(v.get<std::string>());
      collect_refs(v, out);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) collect_refs(v, out);
  }
}

TEST_F(OpenApiTest, EveryReferenceResolves) {
  std::vector<std::string> refs;
  collect_refs(doc_, refs);
  ASSERT_FALSE(refs.empty());
  for (const auto& ref : refs) {
    ASSERT_EQ(ref.rfind("#/", 0), 0u) << ref << ": only local references";
    EXPECT_TRUE(doc_.contains(json::json_pointer(ref.substr(1)))) << ref << " does not resolve";
  }
}

TEST_F(OpenApiTest, RoutesAnswerWithDocumentedStatuses) {
  struct Case {
    std::string method, path, doc_path;
  };
  const std::vector<Case> cases = {
      {"GET", "/healthz", "/healthz"},
      {"GET", "/readyz", "/readyz"},
      {"GET", "/metrics", "/metrics"},
      {"GET", "/api/openapi.json", "/api/openapi.json"},
      {"GET", "/api/calls", "/api/calls"},
      {"GET", "/api/calls/nope", "/api/calls/{id}"},
      {"GET", "/api/live", "/api/live"},
      {"GET", "/api/trunks", "/api/trunks"},
      {"GET", "/api/audit", "/api/audit"},                        // no token: 401
      {"POST", "/api/calls", "/api/calls"},                       // no token: 401
      {"POST", "/api/calls/x/hangup", "/api/calls/{id}/hangup"},  // no token: 401
      {"POST", "/api/audiosocket/sessions", "/api/audiosocket/sessions"},
  };
  for (const auto& c : cases) {
    const auto r = call(c.method, c.path);
    EXPECT_TRUE(statuses(c.method, c.doc_path).count(r.status))
        << c.method << " " << c.path << " answered " << r.status << ", not documented";
  }
}

TEST_F(OpenApiTest, ServedDocumentIsTheBuiltInOne) {
  const auto r = call("GET", "/api/openapi.json");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(json::parse(r.body), doc_);
}

}  // namespace
}  // namespace atende::app
