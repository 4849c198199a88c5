#include "audiosocket/audiosocket_routes.h"

#include <nlohmann/json.hpp>

#include "api/call_request.h"
#include "audiosocket/frame.h"

namespace atende::audiosocket {
namespace {

api::HttpResponse bad(int status, std::string message, std::string detail = "") {
  api::HttpResponse r = api::HttpResponse::error(status, message);
  r.audit_detail = detail.empty() ? message : detail;
  return r;
}

bool printable(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

api::HttpResponse register_session(const AudioSocketRoutesContext& ctx,
                                   const api::HttpRequest& req) {
  nlohmann::json body;
  if (auto e = api::read_json_object(req, body)) return bad(e->status, e->message);
  for (const auto& [key, value] : body.items()) {
    if (key != "uuid" && key != "flow" && key != "persona" && key != "variables") {
      return bad(400, "unknown field '" + key.substr(0, 64) + "'");
    }
  }
  auto text = [&](const char* field) -> const std::string* {
    auto it = body.find(field);
    return it != body.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
  };
  const std::string* uuid_text = text("uuid");
  std::array<uint8_t, kUuidSize> uuid{};
  if (!uuid_text || !uuid_from_string(*uuid_text, uuid)) {
    return bad(400, "'uuid' must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
  }
  const std::string* flow = text("flow");
  const std::string* persona = text("persona");
  if ((flow == nullptr) == (persona == nullptr)) {
    return bad(400, "give exactly one of 'flow' and 'persona' (a string)");
  }
  const std::string& name = flow ? *flow : *persona;
  if (name.empty() || name.size() > api::kMaxNameLength || !printable(name)) {
    return bad(400, "bad flow or persona name");
  }
  std::string resolved;
  if (!ctx.known || !ctx.known(name, persona != nullptr, &resolved)) {
    return bad(400, std::string("unknown ") + (flow ? "flow" : "persona") + " '" + name + "'");
  }
  DirectoryEntry entry{resolved, {}};
  if (auto it = body.find("variables"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return bad(400, "field 'variables' must be an object of strings");
    if (it->size() > api::kMaxVariables) return bad(400, "field 'variables' has too many entries");
    for (const auto& [k, v] : it->items()) {
      if (k.empty() || k.size() > api::kMaxVariableName || !printable(k)) {
        return bad(400, "a variable name is empty, too long or not printable");
      }
      if (!v.is_string() || v.get_ref<const std::string&>().size() > api::kMaxVariableValue) {
        return bad(400, "variable '" + k + "' must be a string of at most 1024 bytes");
      }
      entry.variables[k] = v.get<std::string>();
    }
  }
  const std::string canonical = uuid_to_string(uuid);
  std::string error;
  if (!ctx.directory->put(canonical, std::move(entry), &error)) return bad(503, error);
  api::HttpResponse r =
      api::HttpResponse::json(201, {{"uuid", canonical},
                                    {flow ? "flow" : "persona", resolved},
                                    {"expires_in", SessionDirectory::kMaxAge.count()}});
  r.audit_detail = "uuid=" + canonical + " flow=" + resolved;
  return r;
}

}  // namespace

void install_audiosocket_routes(api::HttpServer& server, AudioSocketRoutesContext ctx) {
  server.route("POST", "/api/audiosocket/sessions",
               [ctx](const api::HttpRequest& r) { return register_session(ctx, r); });
}

}  // namespace atende::audiosocket
