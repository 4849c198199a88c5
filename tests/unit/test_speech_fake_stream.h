// Runs tests/fake_openai/fake_stream_stt.py (the fake streaming STT server: OpenAI Realtime
// transcription and Deepgram-style listen) for a test: started on a free port, scripted
// through its control endpoints, stopped on destruction.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "test_fake_process.h"

namespace atende::testing {

class FakeStreamStt {
 public:
  // With `tls_cert` and `tls_key` (PEM files) it also serves wss:// on tls_port().
  explicit FakeStreamStt(const std::string& tls_cert = "", const std::string& tls_key = "")
      : process_("fake_stream_stt.py", tls_cert, tls_key) {}

  int port() const { return process_.port(); }
  int tls_port() const { return process_.tls_port(); }
  std::string ws_url(const std::string& path) const {
    return "ws://127.0.0.1:" + std::to_string(port()) + path;
  }
  // `host`: what the URL names (the listener is on 127.0.0.1): "localhost", "127.0.0.1".
  std::string wss_url(const std::string& path, const std::string& host = "localhost") const {
    return "wss://" + host + ":" + std::to_string(tls_port()) + path;
  }

  // {"streams": [...]}: each connection takes the next.
  void script(const nlohmann::json& s) { process_.control("POST", "/control/script", s.dump()); }
  void reset() { process_.control("POST", "/control/reset", "{}"); }
  // One record per connection, oldest first.
  nlohmann::json received() {
    return nlohmann::json::parse(process_.control("GET", "/control/received"));
  }

 private:
  FakeProcess process_;
};

}  // namespace atende::testing
