#include "app/catalog.h"

#include <spdlog/spdlog.h>

namespace atende::app {

Catalog::Catalog(CatalogOptions options) : options_(std::move(options)) {}

ReloadResult Catalog::reload() {
  std::lock_guard lock(mutex_);
  ReloadResult result;
  flow::FlowLibrary flows;
  for (const auto& e : flows.load_dir(options_.flows_dir)) {
    result.errors.push_back({e.str(), e.line > 0 ? std::optional<int>(e.line) : std::nullopt});
  }
  if (result.errors.empty() && flows.size() == 0) {
    result.errors.push_back({"flows_dir: no *.yaml flows in " + options_.flows_dir.string(), {}});
  }
  agent::PersonaLibrary personas;
  for (const auto& e : personas.load_dir(options_.personas_dir.string())) {
    result.errors.push_back({"personas: " + e, {}});
  }
  std::function<void()> apply_access;
  if (options_.prepare_access) {
    std::string error;
    apply_access = options_.prepare_access(error);
    if (!apply_access) result.errors.push_back({"config: " + error, {}});
  }
  if (!result.errors.empty()) {
    for (const auto& e : result.errors) spdlog::error("reload: {}", e.message);
    spdlog::error("reload: nothing changed ({} errors)", result.errors.size());
    return result;
  }

  size_t prepared = 0;
  if (options_.phrases) {
    for (int rate : {8000, 16000}) {
      for (const auto& p : flows.phrases(rate)) prepared += options_.phrases->prepare(p) != nullptr;
    }
  }
  if (options_.agents) {
    for (const auto& w : options_.agents->prepare(personas)) spdlog::warn("personas: {}", w);
  }
  options_.flows->replace_with(flows);
  options_.personas->replace_with(personas);
  if (apply_access) apply_access();
  result.ok = true;
  result.flows = options_.flows->size();
  result.personas = options_.personas->personas().size();
  spdlog::info("reload: {} flows from {} ({} phrases ready), {} personas from {}", result.flows,
               options_.flows_dir.string(), prepared, result.personas,
               options_.personas_dir.string());
  return result;
}

std::string leading_comment(const std::string& text, size_t max) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size() && out.size() < max) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    if (line.front() != '#') break;
    line.remove_prefix(1);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (!out.empty() && !line.empty()) out += ' ';
    out += line;
  }
  if (out.size() > max) out = out.substr(0, max - 3) + "...";
  return out;
}

}  // namespace atende::app
