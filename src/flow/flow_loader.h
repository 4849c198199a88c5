// Reads one YAML flow file into a validated FlowSpec. Flow files are configuration, but
// they are still treated as untrusted text: size, step count and text length are bounded,
// malformed YAML is an error (never a crash), and every mistake is reported with
// file:line:column so a typo in a step name or key is found at load, not during a call.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "flow/flow_spec.h"

namespace atende::flow {

struct LoadLimits {
  static constexpr size_t kMaxFileBytes = 1 << 20;
  static constexpr size_t kMaxSteps = 256;
  static constexpr size_t kMaxTextChars = 1000;
  static constexpr size_t kMaxNameChars = 64;
  static constexpr size_t kMaxAliases = 16;
  static constexpr int kMaxCollectDigits = 32;
  static constexpr size_t kMaxErrors = 50;  // stop reporting after this many
};

struct LoadError {
  std::string file;
  int line = 0;  // 1-based; 0 when the error is about the whole file
  int column = 0;
  std::string message;
  // "flows/ivr.yaml:12:7: next: no step named 'sale'"
  std::string str() const;
};

struct LoadResult {
  FlowSpecPtr flow;  // null if there were errors
  std::vector<LoadError> errors;
  bool ok() const { return flow != nullptr; }
  std::string error_text() const;  // all errors, one per line
};

// `file_name` is only used in messages and as the default flow name (its stem).
LoadResult load_flow_text(std::string_view yaml, const std::string& file_name);
LoadResult load_flow_file(const std::filesystem::path& path);

}  // namespace atende::flow
