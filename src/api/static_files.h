// The built web console (web/dist) served from a directory (docs/api.md "The console"):
// GET of any path no route has. Paths are percent-decoded and checked segment by segment
// (no "..", no hidden files, nothing outside the root even through a symlink); a path
// whose last segment has no dot and is no file is a client-side route (/calls/ID, /talk)
// and gets index.html.
//
//   StaticFiles files("/usr/share/atende/web");
//   server.fallback([&files](const HttpRequest& r) { return files.serve(r); });
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

#include "api/http_types.h"

namespace atende::api {

class StaticFiles {
 public:
  // `root` need not exist yet (then every request answers how to build the console).
  explicit StaticFiles(std::filesystem::path root);

  HttpResponse serve(const HttpRequest& request) const;

  // "text/css; charset=utf-8" for "app.css"; application/octet-stream when unknown.
  static std::string content_type(std::string_view file_name);

  const std::filesystem::path& root() const { return root_; }

 private:
  HttpResponse file(const std::filesystem::path& path, bool immutable) const;
  HttpResponse not_built() const;

  std::filesystem::path root_;
};

// Where the console is: `configured` if set, else <source>/web/dist when it holds an
// index.html, else <dir of the executable>/../share/atende/web.
std::filesystem::path find_web_root(const std::string& configured);

}  // namespace atende::api
