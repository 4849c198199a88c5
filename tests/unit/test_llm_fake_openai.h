// Runs tests/fake_openai/fake_openai.py (the one fake of the agent tests) for a test:
// started on a free port, scripted through its control endpoints, stopped on destruction.
// Shared by the llm and speech HTTP tests.
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

// A blocking request, for test set-up only.
inline net::HttpResult fetch(net::HttpClient& http, net::HttpRequest req) {
  std::promise<net::HttpResult> p;
  auto f = p.get_future();
  http.request(std::move(req), nullptr, [&p](net::HttpResult r) { p.set_value(std::move(r)); });
  return f.get();
}

class FakeOpenAi {
 public:
  FakeOpenAi() {
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
          std::string(ATENDE_SOURCE_DIR) + "/tests/fake_openai/fake_openai.py";
      execl("/usr/bin/python3", "python3", script.c_str(), "--port", "0", "--exit-on-stdin-eof",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];  // closing it (or our death) stops the server
    FILE* f = fdopen(out[0], "r");
    char line[64] = {};
    if (!f || !fgets(line, sizeof line, f) || std::sscanf(line, "PORT %d", &port_) != 1) {
      throw std::runtime_error("fake_openai.py did not start");
    }
    fclose(f);
  }
  ~FakeOpenAi() {
    close(stdin_);
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  FakeOpenAi(const FakeOpenAi&) = delete;
  FakeOpenAi& operator=(const FakeOpenAi&) = delete;

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Queues scripted answers: {"chat": [...], "speech": [...], "transcriptions": [...]}.
  void script(const nlohmann::json& s) { post("/control/script", s.dump()); }
  // Every request the server got, oldest first.
  nlohmann::json requests() {
    net::HttpRequest req;
    req.url = base_url() + "/control/requests";
    auto r = fetch(http_, std::move(req));
    return nlohmann::json::parse(r.body);
  }

 private:
  void post(const std::string& path, std::string body) {
    net::HttpRequest req;
    req.method = "POST";
    req.url = base_url() + path;
    req.body = std::move(body);
    req.headers = {{"Content-Type", "application/json"}};
    auto r = fetch(http_, std::move(req));
    if (!r.ok()) throw std::runtime_error("fake_openai control failed: " + r.describe());
  }

  pid_t pid_ = -1;
  int stdin_ = -1;
  int port_ = 0;
  net::HttpClient http_;
};

}  // namespace atende::testing
