// The web console's files: index.html for / and client-side routes, content types and cache
// headers, and nothing outside the root (.., encoded .., hidden files, symlinks out).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "api/static_files.h"

namespace atende::api {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("atende-web-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "root" / "assets");
    write("root/index.html", "<!doctype html>app");
    write("root/assets/app-1a2b.js", "js");
    write("root/assets/app-1a2b.css", "css");
    write("root/.env", "secret");
    write("outside.txt", "outside");
    fs::create_symlink(dir_ / "outside.txt", dir_ / "root" / "link.txt");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& rel, const std::string& text) { std::ofstream(dir_ / rel) << text; }
  HttpResponse get(const std::string& path, const std::string& method = "GET") {
    HttpRequest r;
    r.method = method;
    r.target = path;
    r.path = path;
    return StaticFiles(dir_ / "root").serve(r);
  }
  static std::string header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  fs::path dir_;
};

TEST_F(StaticFilesTest, IndexForRootAndClientRoutes) {
  for (const char* path : {"/", "/calls/c18f0a2b3c400001", "/talk", "/calls/"}) {
    const HttpResponse r = get(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "<!doctype html>app") << path;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
  }
}

TEST_F(StaticFilesTest, AssetsWithTypesAndLongCache) {
  HttpResponse r = get("/assets/app-1a2b.js");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "js");
  EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(header(r, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(get("/assets/app-1a2b.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(get("/assets/missing.js").status, 404);  // a dot: a file, not a route
}

TEST_F(StaticFilesTest, NothingOutsideTheRoot) {
  for (const char* path :
       {"/../outside.txt", "/%2e%2e/outside.txt", "/assets/..%2F..%2Foutside.txt", "/.env",
        "/%2eenv", "/link.txt", "/assets/%00x.js", "/a\\..\\b", "/%zz"}) {
    const HttpResponse r = get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body.find("outside"), std::string::npos) << path;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << path;
  }
}

TEST_F(StaticFilesTest, ApiSpaceAndOtherMethodsAreNotFiles) {
  EXPECT_EQ(get("/api/whatever").status, 404);
  EXPECT_EQ(get("/asp").status, 404);
  EXPECT_EQ(get("/metrics/x").status, 404);
  EXPECT_EQ(get("/", "POST").status, 404);
  EXPECT_EQ(get("/apiary").status, 200);  // only the /api segment is the API's
}

TEST_F(StaticFilesTest, WithoutABuildSaysHowToBuildIt) {
  HttpRequest r;
  r.method = "GET";
  r.target = r.path = "/";
  const HttpResponse out = StaticFiles(dir_ / "nothing").serve(r);
  EXPECT_EQ(out.status, 404);
  EXPECT_NE(out.body.find("make web"), std::string::npos);
}

TEST(StaticFilesTypes, ByExtension) {
  EXPECT_EQ(StaticFiles::content_type("a.svg"), "image/svg+xml");
  EXPECT_EQ(StaticFiles::content_type("a.woff2"), "font/woff2");
  EXPECT_EQ(StaticFiles::content_type("a.unknown"), "application/octet-stream");
  EXPECT_EQ(StaticFiles::content_type("noext"), "application/octet-stream");
}

}  // namespace
}  // namespace atende::api
