// What answers an AudioSocket connection, by its UUID: set through the REST API
// (POST /api/audiosocket/sessions) before Asterisk connects, taken once when it does.
// Bounded in size and age, so a client that registers and never connects cannot fill memory.
// Thread-safe (the HTTP thread puts, the AudioSocket thread takes).
#pragma once
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace atende::audiosocket {

struct DirectoryEntry {
  std::string flow;  // flow or persona name
  std::map<std::string, std::string> variables;
};

class SessionDirectory {
 public:
  static constexpr size_t kMaxEntries = 10000;
  static constexpr std::chrono::seconds kMaxAge{600};

  // False (with `error`) when the directory is full of live entries. Replaces an entry
  // with the same UUID. `uuid` is canonical lowercase.
  bool put(const std::string& uuid, DirectoryEntry entry, std::string* error);
  // Removes and returns the entry, unless it is missing or older than kMaxAge.
  std::optional<DirectoryEntry> take(const std::string& uuid);
  size_t size() const;

 private:
  struct Stored {
    DirectoryEntry entry;
    std::chrono::steady_clock::time_point at;
  };
  void prune(std::chrono::steady_clock::time_point now);
  mutable std::mutex mu_;
  std::unordered_map<std::string, Stored> entries_;
};

}  // namespace atende::audiosocket
