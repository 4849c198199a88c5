// The whole server for `atende serve`: builds every part from the Config in dependency
// order, runs until SIGTERM/SIGINT, then drains and shuts down in reverse order.
#pragma once
#include "core/config.h"

namespace atende::app {

class Server {
 public:
  explicit Server(Config config);
  // Blocks until a signal; returns the process exit status.
  int run();

 private:
  Config config_;
};

// The address to announce in SDP when the config leaves it open: the SIP listen address if
// it is a concrete one, else the first non-loopback IPv4 interface address, else 127.0.0.1.
std::string choose_media_address(const Config& config);

}  // namespace atende::app
