#include "audiosocket/session_directory.h"

namespace atende::audiosocket {

void SessionDirectory::prune(std::chrono::steady_clock::time_point now) {
  std::erase_if(entries_, [now](const auto& kv) { return now - kv.second.at > kMaxAge; });
}

bool SessionDirectory::put(const std::string& uuid, DirectoryEntry entry, std::string* error) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  if (entries_.size() >= kMaxEntries && !entries_.count(uuid)) {
    prune(now);
    if (entries_.size() >= kMaxEntries) {
      if (error) *error = "too many AudioSocket sessions waiting for their connection";
      return false;
    }
  }
  entries_[uuid] = Stored{std::move(entry), now};
  return true;
}

std::optional<DirectoryEntry> SessionDirectory::take(const std::string& uuid) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto it = entries_.find(uuid);
  if (it == entries_.end()) return std::nullopt;
  Stored s = std::move(it->second);
  entries_.erase(it);
  if (now - s.at > kMaxAge) return std::nullopt;
  return std::move(s.entry);
}

size_t SessionDirectory::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace atende::audiosocket
