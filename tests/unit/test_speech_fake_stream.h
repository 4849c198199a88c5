// Runs tests/fake_openai/fake_stream_stt.py (the fake streaming STT server: OpenAI Realtime
// transcription and Deepgram-style listen) for a test: started on a free port, scripted
// through its control endpoints, stopped on destruction.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "net/http_client.h"

namespace atende::testing {

class FakeStreamStt {
 public:
  // With `tls_cert` and `tls_key` (PEM files) it also serves wss:// on tls_port().
  explicit FakeStreamStt(const std::string& tls_cert = "", const std::string& tls_key = "") {
    int out[2], in[2];
    if (pipe(out) != 0 || pipe(in) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      const std::string script =
          std::string(ATENDE_SOURCE_DIR) + "/tests/fake_openai/fake_stream_stt.py";
      if (tls_cert.empty()) {
        execl("/usr/bin/python3", "python3", script.c_str(), "--port", "0", "--exit-on-stdin-eof",
              static_cast<char*>(nullptr));
      } else {
        execl("/usr/bin/python3", "python3", script.c_str(), "--port", "0", "--exit-on-stdin-eof",
              "--tls-cert", tls_cert.c_str(), "--tls-key", tls_key.c_str(),
              static_cast<char*>(nullptr));
      }
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];  // closing it (or our death) stops the server
    FILE* f = fdopen(out[0], "r");
    char line[64] = {};
    if (!f || !fgets(line, sizeof line, f) || std::sscanf(line, "PORT %d", &port_) != 1) {
      throw std::runtime_error("fake_stream_stt.py did not start");
    }
    if (!tls_cert.empty() &&
        (!fgets(line, sizeof line, f) || std::sscanf(line, "TLS_PORT %d", &tls_port_) != 1)) {
      throw std::runtime_error("fake_stream_stt.py did not start its TLS listener");
    }
    fclose(f);
  }
  ~FakeStreamStt() {
    close(stdin_);
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  FakeStreamStt(const FakeStreamStt&) = delete;
  FakeStreamStt& operator=(const FakeStreamStt&) = delete;

  int port() const { return port_; }
  int tls_port() const { return tls_port_; }
  std::string ws_url(const std::string& path) const {
    return "ws://127.0.0.1:" + std::to_string(port_) + path;
  }
  // `host`: what the URL names (the listener is on 127.0.0.1): "localhost", "127.0.0.1".
  std::string wss_url(const std::string& path, const std::string& host = "localhost") const {
    return "wss://" + host + ":" + std::to_string(tls_port_) + path;
  }

  // {"streams": [...]}: each connection takes the next.
  void script(const nlohmann::json& s) { call("POST", "/control/script", s.dump()); }
  void reset() { call("POST", "/control/reset", "{}"); }
  // One record per connection, oldest first.
  nlohmann::json received() { return nlohmann::json::parse(call("GET", "/control/received", "")); }

 private:
  std::string call(const char* method, const std::string& path, std::string body) {
    net::HttpRequest req;
    req.method = method;
    req.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    if (!body.empty()) {
      req.body = std::move(body);
      req.headers = {{"Content-Type", "application/json"}};
    }
    std::promise<net::HttpResult> p;
    auto f = p.get_future();
    http_.request(std::move(req), nullptr, [&p](net::HttpResult r) { p.set_value(std::move(r)); });
    auto r = f.get();
    if (!r.ok()) throw std::runtime_error("fake_stream_stt control failed: " + r.describe());
    return r.body;
  }

  pid_t pid_ = -1;
  int stdin_ = -1;
  int port_ = 0;
  int tls_port_ = 0;
  net::HttpClient http_;
};

}  // namespace atende::testing
