// All flows the server knows, loaded from a directory of *.yaml files at start-up, and the
// dial plan that picks one for an incoming call.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "flow/flow_host.h"
#include "flow/flow_loader.h"
#include "flow/flow_spec.h"

namespace atende::flow {

class FlowLibrary {
 public:
  static constexpr std::string_view kDefaultFlow = "ivr";

  // Loads every *.yaml directly in `dir` (sorted by name, not recursive). Every broken file
  // is reported (each error names its file); the good ones are still added.
  std::vector<LoadError> load_dir(const std::filesystem::path& dir);
  // Adds one flow; an error if its name or an alias is already taken.
  std::vector<LoadError> add(FlowSpecPtr flow);

  // The fixed phrases of every flow at `sample_rate`, to give to PhraseSource::prepare()
  // at start-up so prompts play at once. Call once per leg sample rate in use.
  std::vector<speech::Phrase> phrases(int sample_rate) const;

  // Dial plan: the flow named (or aliased) by the request-URI user, compared without case;
  // kDefaultFlow for anything else. Empty only if neither exists.
  std::string resolve(std::string_view user) const;

  const FlowSpec* find(std::string_view name) const;
  // A new engine running `name` on `host`; nullptr if there is no such flow.
  std::unique_ptr<Flow> create(std::string_view name, FlowHost& host) const;

  std::vector<std::string> names() const;
  size_t size() const { return flows_.size(); }

 private:
  const FlowSpec* find_dial_name(std::string_view user) const;
  std::vector<FlowSpecPtr> flows_;
};

}  // namespace atende::flow
