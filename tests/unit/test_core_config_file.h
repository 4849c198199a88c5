// Config file texts for the config tests: each written to a temporary file of its own,
// loaded and validated as main() loads the file, and the error a bad one gives.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "core/config.h"

namespace atende::testing {

// The path of a new temporary file holding `text`.
inline std::string write_config_text(const std::string& text) {
  static int n = 0;
  // ctest runs each test as its own process, several at once: the pid keeps files apart.
  std::string path = ::testing::TempDir() + "/config" + std::to_string(::getpid()) + "-" +
                     std::to_string(n++) + ".yaml";
  std::ofstream(path) << text;
  return path;
}

// `text` loaded as the config file and validated; throws ConfigError.
inline Config load_config_text(const std::string& text) {
  Config c;
  load_config_file(write_config_text(text), c);
  validate_config(c);
  return c;
}

// The ConfigError that load_config_text(text) throws; "" when it loads.
inline std::string config_error(const std::string& text) {
  try {
    load_config_text(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace atende::testing
