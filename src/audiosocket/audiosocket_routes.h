// POST /api/audiosocket/sessions (docs/audiosocket.md "The API call"): what answers an
// AudioSocket connection with a given UUID, set before Asterisk connects. A write, so the
// API guard asks for a token and audits it like the other writes.
#pragma once
#include <functional>
#include <string>

#include "api/http_server.h"
#include "audiosocket/session_directory.h"

namespace atende::audiosocket {

struct AudioSocketRoutesContext {
  SessionDirectory* directory = nullptr;
  // Whether `name` is a flow (persona=false) or a persona (persona=true) we have; the
  // canonical name in `resolved`.
  std::function<bool(const std::string& name, bool persona, std::string* resolved)> known;
};

void install_audiosocket_routes(api::HttpServer& server, AudioSocketRoutesContext ctx);

}  // namespace atende::audiosocket
