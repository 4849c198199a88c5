#include "flow/flow_library.h"

#include <algorithm>
#include <system_error>

#include "flow/scripted_flow.h"

namespace atende::flow {
namespace {

bool same_ignoring_case(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

std::vector<LoadError> FlowLibrary::load_dir(const std::filesystem::path& dir) {
  std::vector<LoadError> errors;
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".yaml" && it->is_regular_file(ec)) files.push_back(it->path());
  }
  if (ec) {
    errors.push_back({dir.string(), 0, 0, "cannot read directory: " + ec.message()});
    return errors;
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    LoadResult r = load_flow_file(file);
    auto more = r.ok() ? add(r.flow) : std::move(r.errors);
    errors.insert(errors.end(), more.begin(), more.end());
  }
  return errors;
}

std::shared_ptr<const FlowLibrary::FlowSet> FlowLibrary::current() const {
  std::lock_guard lock(mutex_);
  return flows_;
}

void FlowLibrary::replace_with(const FlowLibrary& fresh) {
  auto set = fresh.current();
  std::lock_guard lock(mutex_);
  flows_ = std::move(set);
}

std::vector<LoadError> FlowLibrary::add(FlowSpecPtr flow) {
  std::vector<LoadError> errors;
  const auto set = current();
  auto taken = [&](const std::string& dial_name) {
    if (const FlowSpecPtr other = find_dial_name(*set, dial_name)) {
      errors.push_back(
          {flow->file, 0, 0, "name '" + dial_name + "' is already used by " + other->file});
    }
  };
  taken(flow->name);
  for (const auto& alias : flow->aliases) taken(alias);
  if (errors.empty()) {
    auto grown = std::make_shared<FlowSet>(*set);  // copy on write: readers keep theirs
    grown->push_back(std::move(flow));
    std::lock_guard lock(mutex_);
    flows_ = std::move(grown);
  }
  return errors;
}

std::vector<speech::Phrase> FlowLibrary::phrases(int sample_rate) const {
  std::vector<speech::Phrase> out;
  for (const auto& flow : *current()) {
    for (auto& text : flow->fixed_texts()) {
      speech::Phrase p{std::move(text), flow->voice, sample_rate};
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
    }
  }
  return out;
}

FlowSpecPtr FlowLibrary::find_dial_name(const FlowSet& set, std::string_view user) {
  for (const auto& flow : set) {
    if (same_ignoring_case(flow->name, user)) return flow;
    for (const auto& alias : flow->aliases) {
      if (same_ignoring_case(alias, user)) return flow;
    }
  }
  return nullptr;
}

std::string FlowLibrary::resolve(std::string_view user) const {
  const auto set = current();
  if (const FlowSpecPtr flow = find_dial_name(*set, user)) return flow->name;
  for (const auto& flow : *set) {
    if (flow->name == kDefaultFlow) return std::string(kDefaultFlow);
  }
  return "";
}

FlowSpecPtr FlowLibrary::find(std::string_view name) const {
  for (const auto& flow : *current()) {
    if (flow->name == name) return flow;
  }
  return nullptr;
}

std::unique_ptr<Flow> FlowLibrary::create(std::string_view name, FlowHost& host) const {
  if (FlowSpecPtr flow = find(name)) return std::make_unique<ScriptedFlow>(flow, host);
  return nullptr;
}

std::vector<std::string> FlowLibrary::names() const {
  std::vector<std::string> out;
  for (const auto& flow : *current()) out.push_back(flow->name);
  return out;
}

}  // namespace atende::flow
