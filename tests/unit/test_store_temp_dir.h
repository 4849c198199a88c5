// The store tests' fixture: a fresh directory per test for the database (calls.db in it),
// named by the process and the test (ctest runs each test as its own process, several at
// once) and removed after the test.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace atende::testing {

class StoreDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("atende-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "calls.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }

  std::filesystem::path dir_;
  std::string path_;  // the database
};

}  // namespace atende::testing
