// Where the ASP client role connects: "ws://HOST:PORT[/PATH]" targets, and the session ids
// it makes up for them.
#pragma once
#include <string>
#include <string_view>

namespace atende::asp {

struct Target {
  std::string host, path;  // host: the address we connect to ("localhost" is 127.0.0.1)
  std::string name;        // the host as written: what a wss:// certificate must name
  int port = 0;
  bool secure = false;
};

// "ws://HOST:PORT/PATH?QUERY" (or wss://, reported in `secure`, port 443 unless given); a numeric
// host or "localhost" (no blocking DNS). False when it is not one.
bool parse_target(std::string_view to, Target& t);

// A random version 4 UUID, lower-case with dashes: the session_id of a session we start.
std::string random_uuid();

}  // namespace atende::asp
