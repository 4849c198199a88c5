#include "api/recording_routes.h"

#include <filesystem>
#include <fstream>

namespace atende::api {

namespace {

constexpr size_t kMaxCallIdLength = 128;
// The response is built in memory: a recording beyond this (about 3.5 hours of 16 kHz
// stereo) is refused rather than held.
constexpr uintmax_t kMaxServedBytes = 1024ull * 1024 * 1024;

HttpResponse get_recording(const RecordingRoutesContext& ctx, const HttpRequest& req) {
  const std::string& id = req.path_params.at("id");
  if (id.size() > kMaxCallIdLength) return HttpResponse::error(404, "no recording");
  const auto rec = ctx.store->get_recording(id);
  // The store's path is ours, but never leave the recordings directory whatever it says.
  if (!rec || rec->path.find("..") != std::string::npos || rec->path.empty() ||
      rec->path.front() == '/') {
    return HttpResponse::error(404, "no recording");
  }
  const std::filesystem::path path = std::filesystem::path(ctx.dir) / rec->path;
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return HttpResponse::error(404, "no recording (the file is gone)");
  if (size > kMaxServedBytes) return HttpResponse::error(413, "recording too large to serve");
  std::ifstream in(path, std::ios::binary);
  HttpResponse r;
  r.status = 200;
  r.content_type = "audio/wav";
  r.body.resize(static_cast<size_t>(size));
  if (!in.read(r.body.data(), static_cast<std::streamsize>(size))) {
    return HttpResponse::error(500, "cannot read the recording");
  }
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + id + ".wav\"");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace

void install_recording_routes(HttpServer& server, RecordingRoutesContext ctx) {
  if (!ctx.store) return;
  server.route("GET", "/api/calls/{id}/recording",
               [ctx](const HttpRequest& req) { return get_recording(ctx, req); });
}

}  // namespace atende::api
