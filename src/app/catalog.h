// The flows and personas the server runs, as files on disk that can be read again while
// calls run: SIGHUP and POST /api/reload (docs/api.md "Flows and personas").
//
// A reload reads every flow and persona file (and, through `prepare_access`, the config
// file's access rules) before it changes anything: one broken file and nothing changes,
// and the errors say why. Then the fixed phrases of the new flows are synthesised, the
// personas' engines built, and the libraries swapped. Calls in progress keep the flow
// (FlowSpecPtr) and persona (a copy) they started with. One reload at a time.
//
//   Catalog catalog({.flows = &flows, .personas = &personas, .flows_dir = dir, ...});
//   auto r = catalog.reload();  // r.ok, r.flows, r.personas, r.errors
#pragma once
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent_runtime.h"
#include "agent/persona.h"
#include "flow/flow_library.h"
#include "speech/phrase_cache.h"

namespace atende::app {

struct CatalogOptions {
  flow::FlowLibrary* flows = nullptr;
  agent::PersonaLibrary* personas = nullptr;
  agent::AgentRuntime* agents = nullptr;   // null: personas are not (re)prepared
  speech::PhraseCache* phrases = nullptr;  // null: new phrases are synthesised on first use
  std::filesystem::path flows_dir;
  std::filesystem::path personas_dir;
  // Reads the access rules again: returns what applies them, or sets `error` and returns
  // null. Null: no access rules to reload (started without --config).
  std::function<std::function<void()>(std::string& error)> prepare_access;
};

struct CatalogProblem {
  std::string message;      // names the file
  std::optional<int> line;  // 1-based, when known
};

struct ReloadResult {
  bool ok = false;
  size_t flows = 0;
  size_t personas = 0;
  std::vector<CatalogProblem> errors;
};

class Catalog {
 public:
  explicit Catalog(CatalogOptions options);

  ReloadResult reload();

  const flow::FlowLibrary& flows() const { return *options_.flows; }
  const agent::PersonaLibrary& personas() const { return *options_.personas; }
  const std::filesystem::path& flows_dir() const { return options_.flows_dir; }

 private:
  CatalogOptions options_;
  std::mutex mutex_;  // one reload at a time
};

// The leading comment of a YAML file (its '#' lines before the first key, joined), at most
// `max` characters: what the console shows as a flow's or persona's description.
std::string leading_comment(const std::string& text, size_t max = 400);

}  // namespace atende::app
