// Runs tests/fake_openai/fake_openai.py (the one fake of the agent tests) for a test:
// started on a free port, scripted through its control endpoints, stopped on destruction.
// Shared by the llm and speech HTTP tests.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "test_fake_process.h"

namespace atende::testing {

class FakeOpenAi {
 public:
  FakeOpenAi() : process_("fake_openai.py") {}

  int port() const { return process_.port(); }
  std::string base_url() const { return process_.url(""); }

  // Queues scripted answers: {"chat": [...], "speech": [...], "transcriptions": [...]}.
  void script(const nlohmann::json& s) { process_.control("POST", "/control/script", s.dump()); }
  // Every request the server got, oldest first.
  nlohmann::json requests() {
    return nlohmann::json::parse(process_.control("GET", "/control/requests"));
  }

 private:
  FakeProcess process_;
};

}  // namespace atende::testing
