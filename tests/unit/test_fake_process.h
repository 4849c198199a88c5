// Runs one of the Python fakes of tests/fake_openai/ for a test: started as a child on a
// free port (the fake prints `PORT <n>` as its first line), scripted through its control
// endpoints, stopped on destruction. The fake also exits when its stdin closes, so a test
// process that dies leaves no server behind. Shared by FakeOpenAi (test_llm_fake_openai.h)
// and FakeStreamStt (test_speech_fake_stream.h).
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <stdexcept>
#include <string>

#include "net/http_client.h"

namespace atende::testing {

// A blocking request, for test set-up only.
inline net::HttpResult fetch(net::HttpClient& http, net::HttpRequest req) {
  std::promise<net::HttpResult> p;
  auto f = p.get_future();
  http.request(std::move(req), nullptr, [&p](net::HttpResult r) { p.set_value(std::move(r)); });
  return f.get();
}

class FakeProcess {
 public:
  // `script`: the fake's file name in tests/fake_openai/ ("fake_openai.py"). With `tls_cert`
  // and `tls_key` (PEM files) the WebSocket fakes also serve TLS on tls_port() (their
  // second line, `TLS_PORT <n>`).
  explicit FakeProcess(std::string script, const std::string& tls_cert = "",
                       const std::string& tls_key = "")
      : script_(std::move(script)) {
    int out[2], in[2];
    if (pipe(out) != 0 || pipe(in) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      const std::string path = std::string(ATENDE_SOURCE_DIR) + "/tests/fake_openai/" + script_;
      if (tls_cert.empty()) {
        execl("/usr/bin/python3", "python3", path.c_str(), "--port", "0", "--exit-on-stdin-eof",
              static_cast<char*>(nullptr));
      } else {
        execl("/usr/bin/python3", "python3", path.c_str(), "--port", "0", "--exit-on-stdin-eof",
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
      throw std::runtime_error(script_ + " did not start");
    }
    if (!tls_cert.empty() &&
        (!fgets(line, sizeof line, f) || std::sscanf(line, "TLS_PORT %d", &tls_port_) != 1)) {
      throw std::runtime_error(script_ + " did not start its TLS listener");
    }
    fclose(f);
  }
  ~FakeProcess() {
    close(stdin_);
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  FakeProcess(const FakeProcess&) = delete;
  FakeProcess& operator=(const FakeProcess&) = delete;

  int port() const { return port_; }
  int tls_port() const { return tls_port_; }
  // http://127.0.0.1:<port><path>
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // A request to one of the fake's control endpoints; a JSON body when `body` is not empty.
  // Returns the answer's body; throws, naming the fake, when the request failed.
  std::string control(const char* method, const std::string& path, std::string body = {}) {
    net::HttpRequest req;
    req.method = method;
    req.url = url(path);
    if (!body.empty()) {
      req.body = std::move(body);
      req.headers = {{"Content-Type", "application/json"}};
    }
    auto r = fetch(http_, std::move(req));
    if (!r.ok()) throw std::runtime_error(script_ + " control failed: " + r.describe());
    return r.body;
  }

 private:
  const std::string script_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  int port_ = 0;
  int tls_port_ = 0;
  net::HttpClient http_;
};

}  // namespace atende::testing
