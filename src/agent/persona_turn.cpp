#include "agent/persona_turn.h"

#include <stdexcept>
#include <string>

namespace atende::agent {
namespace {

[[noreturn]] void fail(const std::string& key, const std::string& problem) {
  throw std::invalid_argument("turn." + key + ": " + problem);
}

Millis millis(const YAML::Node& n, const std::string& key, int lo, int hi) {
  int v = 0;
  try {
    v = n.as<int>();
  } catch (const YAML::Exception&) {
    fail(key, "must be a whole number of milliseconds");
  }
  if (v < lo || v > hi) {
    fail(key, "must be within " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  return Millis(v);
}

}  // namespace

void parse_turn_settings(const YAML::Node& root, AgentSettings& settings) {
  const YAML::Node turn = root["turn"];
  if (!turn) return;
  if (!turn.IsMap()) throw std::invalid_argument("turn: must be a map");
  for (const auto& kv : turn) {
    const auto key = kv.first.as<std::string>();
    if (key == "speculative") {
      try {
        settings.speculative = kv.second.as<bool>();
      } catch (const YAML::Exception&) {
        fail(key, "must be true or false");
      }
    } else if (key == "barge_in_words") {
      try {
        settings.barge_in_words = kv.second.as<bool>();
      } catch (const YAML::Exception&) {
        fail(key, "must be true or false");
      }
    } else if (key == "end_silence_ms") {
      settings.turn.end_silence = millis(kv.second, key, 100, 5000);
    } else if (key == "end_silence_complete_ms") {
      settings.turn.end_silence_complete = millis(kv.second, key, 100, 5000);
    } else if (key == "end_silence_number_ms") {
      settings.turn.end_silence_number = millis(kv.second, key, 100, 5000);
    } else if (key == "end_silence_unfinished_ms") {
      settings.turn.end_silence_unfinished = millis(kv.second, key, 100, 10000);
    } else {
      fail(key,
           "unknown key (speculative, barge_in_words, end_silence_ms, "
           "end_silence_complete_ms, end_silence_number_ms, end_silence_unfinished_ms)");
    }
  }
}

}  // namespace atende::agent
