#include "api/static_files.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <optional>

#include "api/query.h"

namespace atende::api {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxFileBytes = 32 << 20;  // a console bundle is far smaller
constexpr size_t kMaxSegments = 16;

bool is_api_space(std::string_view path) {
  for (std::string_view prefix : {"/api", "/asp", "/metrics"}) {
    if (path == prefix || (path.substr(0, prefix.size()) == prefix && path.size() > prefix.size() &&
                           path[prefix.size()] == '/')) {
      return true;
    }
  }
  return false;
}

// Safe relative path of the request, or nullopt: every segment non-empty, not "." or "..",
// not hidden, without a backslash or NUL; at most kMaxSegments.
std::optional<fs::path> relative_path(std::string_view raw) {
  auto decoded = percent_decode(raw, false);
  if (!decoded) return std::nullopt;
  std::string_view p = *decoded;
  fs::path out;
  size_t segments = 0;
  while (!p.empty()) {
    if (p.front() == '/') {
      p.remove_prefix(1);
      continue;
    }
    const size_t slash = p.find('/');
    const std::string_view seg = p.substr(0, slash);
    p = slash == std::string_view::npos ? std::string_view{} : p.substr(slash + 1);
    if (seg.front() == '.' || seg.find('\\') != std::string_view::npos ||
        seg.find('\0') != std::string_view::npos || ++segments > kMaxSegments) {
      return std::nullopt;
    }
    out /= std::string(seg);
  }
  return out;
}

}  // namespace

StaticFiles::StaticFiles(fs::path root) : root_(std::move(root)) {}

std::string StaticFiles::content_type(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 18> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
  }};
  const size_t dot = name.rfind('.');
  if (dot != std::string_view::npos) {
    const std::string_view ext = name.substr(dot);
    for (const auto& [e, type] : kTypes) {
      if (e == ext) return std::string(type);
    }
  }
  return "application/octet-stream";
}

HttpResponse StaticFiles::not_built() const {
  return HttpResponse::text(404, "The web console is not built in " + root_.string() +
                                     ".\nBuild it with `make web` (or point web_root / "
                                     "--web-root / ATENDE_WEB_ROOT at a built console).\n");
}

HttpResponse StaticFiles::file(const fs::path& path, bool immutable) const {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!in || ec || size > kMaxFileBytes) return HttpResponse::error(404, "not found");
  std::string body(size, '\0');
  in.read(body.data(), static_cast<std::streamsize>(size));
  body.resize(static_cast<size_t>(in.gcount()));
  HttpResponse r = HttpResponse::text(200, std::move(body), content_type(path.filename().string()));
  // Built assets carry a content hash in their names: cache them for good. Everything
  // else (index.html above all) is checked again each time, so a new build shows at once.
  r.headers.emplace_back("Cache-Control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

HttpResponse StaticFiles::serve(const HttpRequest& request) const {
  const std::string& path = request.path;
  if (request.method != "GET" || is_api_space(path)) return HttpResponse::error(404, "not found");
  const fs::path index = root_ / "index.html";
  std::error_code ec;
  if (!fs::is_regular_file(index, ec)) return not_built();
  const auto rel = relative_path(path);
  if (!rel) return HttpResponse::error(404, "not found");
  if (rel->empty()) return file(index, false);

  const fs::path candidate = root_ / *rel;
  if (fs::is_regular_file(candidate, ec)) {
    // A symlink inside the root must not lead out of it.
    const fs::path real = fs::canonical(candidate, ec);
    const fs::path real_root = fs::canonical(root_, ec);
    if (ec) return HttpResponse::error(404, "not found");
    const auto [r_end, _] =
        std::mismatch(real_root.begin(), real_root.end(), real.begin(), real.end());
    if (r_end != real_root.end()) return HttpResponse::error(404, "not found");
    const bool asset = *rel->begin() == "assets";
    return file(candidate, asset);
  }
  // No such file: a client-side route (no dot in its last segment) gets the app.
  if (rel->filename().string().find('.') == std::string::npos) return file(index, false);
  return HttpResponse::error(404, "not found");
}

fs::path find_web_root(const std::string& configured) {
  if (!configured.empty()) return configured;
  std::error_code ec;
  const fs::path source = fs::path(ATENDE_SOURCE_DIR) / "web" / "dist";
  if (fs::is_regular_file(source / "index.html", ec)) return source;
  std::array<char, 4096> exe{};
  const ssize_t n = ::readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  if (n > 0) {
    return fs::path(std::string(exe.data(), static_cast<size_t>(n))).parent_path().parent_path() /
           "share" / "atende" / "web";
  }
  return source;
}

}  // namespace atende::api
