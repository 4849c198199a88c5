#include "app/catalog_routes.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "flow/flow_loader.h"

namespace atende::app {

namespace {

namespace fs = std::filesystem;
using api::HttpRequest;
using api::HttpResponse;

constexpr size_t kMaxFileBytes = 1 << 20;  // what the flow loader accepts, too
constexpr size_t kMaxNameLength = 128;

// The file's text, at most kMaxFileBytes; nullopt when it cannot be read.
std::optional<std::string> read_text(const std::string& path, size_t max = kMaxFileBytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text(max, '\0');
  in.read(text.data(), static_cast<std::streamsize>(max));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

nlohmann::json entry(const std::string& name, const char* type, const std::string& file) {
  const auto head = read_text(file, 4096);
  return {{"name", name},
          {"type", type},
          {"file", fs::path(file).filename().string()},
          {"description", head ? leading_comment(*head) : std::string()}};
}

HttpResponse source(const std::string& name, const char* type, const std::string& file) {
  const auto text = read_text(file);
  if (!text) return HttpResponse::error(404, std::string(type) + " file is gone from disk");
  return HttpResponse::json(200, {{"name", name},
                                  {"type", type},
                                  {"file", fs::path(file).filename().string()},
                                  {"yaml", *text}});
}

HttpResponse unavailable() { return HttpResponse::error(503, "flows are not loaded here"); }

// The YAML of a validate request: the body as text/yaml (or text/plain), or {"yaml": "..."}.
std::optional<std::string> posted_yaml(const HttpRequest& req, HttpResponse& refusal) {
  const std::string* type = req.header("Content-Type");
  const std::string media = type ? type->substr(0, type->find(';')) : "";
  if (media == "application/json") {
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("yaml") || !body["yaml"].is_string()) {
      refusal = HttpResponse::error(400, "expected {\"yaml\": \"<flow text>\"}");
      return std::nullopt;
    }
    return body["yaml"].get<std::string>();
  }
  if (media == "text/yaml" || media == "application/yaml" || media == "application/x-yaml" ||
      media == "text/plain") {
    return req.body;
  }
  refusal = HttpResponse::error(415, "send the flow as text/yaml or {\"yaml\": ...} as JSON");
  return std::nullopt;
}

HttpResponse validate(const Catalog& catalog, const HttpRequest& req) {
  HttpResponse refusal;
  const auto yaml = posted_yaml(req, refusal);
  if (!yaml) return refusal;
  if (yaml->size() > kMaxFileBytes) return HttpResponse::error(413, "flow over 1 MiB");
  // Named as if it sat in the flows directory, so the tables it names resolve there as they
  // would once saved; nothing is written.
  const std::string file = (catalog.flows_dir() / "posted.yaml").string();
  const flow::LoadResult r = flow::load_flow_text(*yaml, file);
  if (!r.ok()) {
    auto errors = nlohmann::json::array();
    for (const auto& e : r.errors) {
      errors.push_back({{"message", e.str()},
                        {"line", e.line > 0 ? nlohmann::json(e.line) : nlohmann::json(nullptr)}});
    }
    HttpResponse out = HttpResponse::json(422, {{"ok", false}, {"errors", errors}});
    out.audit_detail = "invalid (" + std::to_string(r.errors.size()) + " errors)";
    return out;
  }
  HttpResponse out = HttpResponse::json(200, {{"ok", true}, {"flows", {r.flow->name}}});
  out.audit_detail = "valid: " + r.flow->name;
  return out;
}

HttpResponse reload(Catalog& catalog) {
  const ReloadResult r = catalog.reload();
  if (!r.ok) {
    auto errors = nlohmann::json::array();
    for (const auto& e : r.errors) {
      errors.push_back(
          {{"message", e.message}, {"line", e.line ? nlohmann::json(*e.line) : nlohmann::json()}});
    }
    HttpResponse out = HttpResponse::json(
        422, {{"error", r.errors.empty() ? "reload failed" : r.errors.front().message},
              {"errors", errors}});
    out.audit_detail = "nothing changed: " + std::to_string(r.errors.size()) + " errors";
    return out;
  }
  HttpResponse out = HttpResponse::json(200, {{"flows", r.flows}, {"personas", r.personas}});
  out.audit_detail =
      std::to_string(r.flows) + " flows, " + std::to_string(r.personas) + " personas";
  return out;
}

}  // namespace

void install_catalog_routes(api::HttpServer& http, Catalog* catalog) {
  http.route("GET", "/api/flows", [catalog](const HttpRequest&) {
    if (!catalog) return unavailable();
    auto out = nlohmann::json::array();
    for (const auto& f : catalog->flows().flows()) out.push_back(entry(f->name, "flow", f->file));
    return HttpResponse::json(200, out);
  });
  http.route("GET", "/api/flows/{name}", [catalog](const HttpRequest& r) {
    if (!catalog) return unavailable();
    const std::string& name = r.path_params.at("name");
    const auto f = name.size() <= kMaxNameLength ? catalog->flows().find(name) : nullptr;
    if (!f) return HttpResponse::error(404, "no such flow");
    return source(f->name, "flow", f->file);
  });
  http.route("GET", "/api/personas", [catalog](const HttpRequest&) {
    if (!catalog) return unavailable();
    auto out = nlohmann::json::array();
    for (const auto& p : catalog->personas().personas()) {
      out.push_back(entry(p.name, "persona", p.file));
    }
    return HttpResponse::json(200, out);
  });
  http.route("GET", "/api/personas/{name}", [catalog](const HttpRequest& r) {
    if (!catalog) return unavailable();
    const std::string& name = r.path_params.at("name");
    const agent::Persona* p =
        name.size() <= kMaxNameLength ? catalog->personas().resolve(name) : nullptr;
    if (!p) return HttpResponse::error(404, "no such persona");
    return source(p->name, "persona", p->file);
  });
  http.route("POST", "/api/flows/validate", [catalog](const HttpRequest& r) {
    if (!catalog) return unavailable();
    return validate(*catalog, r);
  });
  http.route("POST", "/api/reload", [catalog](const HttpRequest&) {
    if (!catalog) return unavailable();
    return reload(*catalog);
  });
}

}  // namespace atende::app
