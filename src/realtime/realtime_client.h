// The WebSocket side of OpenAI Realtime sessions (docs/realtime.md): one I/O thread
// (Boost.Beast, as the ASP front uses) runs every session of the process. A session sends
// session.update, then every 20 ms moves the caller's audio from its Bridge to the server
// (resampled to 24 kHz, input_audio_buffer.append) with the engine's commands, and turns the
// server's events into the Bridge's events and answer audio (resampled to the leg's rate).
// Nothing here knows about legs, flows or personas.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "net/ws_connection.h"
#include "realtime/realtime_bridge.h"
#include "realtime/realtime_events.h"

namespace atende::realtime {

// "wss://HOST[:PORT]/PATH?QUERY" or "ws://...": net/ws_connection.h's URL.
using Endpoint = net::WsUrl;
// Empty string when `url` is usable, else what is wrong with it.
std::string parse_endpoint(std::string_view url, Endpoint& out);

struct SessionOptions {
  Endpoint endpoint;
  std::string api_key;  // "Authorization: Bearer"; empty: none sent
  std::string ca_file;  // wss://: the CAs to trust (PEM); empty: the system's
  SessionConfig config;
};

class RealtimeIo {
 public:
  RealtimeIo();
  ~RealtimeIo();  // closes every session and joins the thread
  RealtimeIo(const RealtimeIo&) = delete;
  RealtimeIo& operator=(const RealtimeIo&) = delete;

  // Opens a session for a leg at `bridge->rate()`. It runs until bridge->close() or the
  // server ends it (then bridge->ended() says why). Any thread.
  void open(SessionOptions options, std::shared_ptr<Bridge> bridge);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace atende::realtime
