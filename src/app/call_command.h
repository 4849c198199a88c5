// `atende call TO --flow F --var k=v`: asks a running server to place a call, through its
// REST API (POST /api/calls with a Bearer token), and prints the new call's id.
#pragma once
#include <map>
#include <string>

namespace atende::app {

struct CallCommand {
  std::string to;
  std::string flow;
  std::string persona;
  std::string trunk;
  std::string caller_id;
  int ring_timeout = 0;  // seconds; 0: the server's default
  std::map<std::string, std::string> variables;
  std::string api = "http://127.0.0.1:8080";
  std::string token;  // empty: $ATENDE_TOKEN
};

// Returns the process exit status: 0 placed, 1 refused or unreachable, 2 bad arguments.
int run_call_command(const CallCommand& cmd);

}  // namespace atende::app
