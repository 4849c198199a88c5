// GET /api/calls/{id}/recording (docs/recording.md): the call's WAV, while it is kept.
// Under /api, so the API guard applies: when api_tokens are configured it needs a token,
// reads included (a recording is personal data).
#pragma once
#include <string>

#include "api/http_server.h"
#include "store/call_store.h"

namespace atende::api {

struct RecordingRoutesContext {
  store::CallStore* store = nullptr;
  std::string dir;  // <data dir>/recordings: the store's paths are relative to it
};

void install_recording_routes(HttpServer& server, RecordingRoutesContext ctx);

}  // namespace atende::api
