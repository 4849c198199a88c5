// All flows the server knows, loaded from a directory of *.yaml files at start-up, and the
// dial plan that picks one for an incoming call.
//
// Reloadable while calls run (SIGHUP, POST /api/reload): the flows are an immutable set
// behind a shared_ptr, swapped whole by replace_with(). Every read takes the set current at
// that moment; a call keeps the FlowSpecPtr its engine was created with, so calls in
// progress finish on the flow they started with. Thread-safe.
#pragma once
#include <filesystem>
#include <memory>
#include <mutex>
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

  // Shared, so the spec outlives a reload for as long as the caller holds it.
  FlowSpecPtr find(std::string_view name) const;
  // A new engine running `name` on `host`; nullptr if there is no such flow.
  std::unique_ptr<Flow> create(std::string_view name, FlowHost& host) const;

  std::vector<std::string> names() const;
  size_t size() const { return current()->size(); }
  // Every flow, in load order.
  std::vector<FlowSpecPtr> flows() const { return *current(); }

  // Takes `fresh`'s flows as this library's, at once for every later read.
  void replace_with(const FlowLibrary& fresh);

 private:
  using FlowSet = std::vector<FlowSpecPtr>;
  std::shared_ptr<const FlowSet> current() const;
  static FlowSpecPtr find_dial_name(const FlowSet& set, std::string_view user);

  mutable std::mutex mutex_;  // guards the pointer only, never held while a flow is read
  std::shared_ptr<const FlowSet> flows_ = std::make_shared<const FlowSet>();
};

}  // namespace atende::flow
