// The gRPC control service's keys (docs/grpc.md): off unless grpc_listen is given.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/config.h"

namespace atende {
namespace {

Config load(const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("atende-grpc-config-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << text;
  Config cfg;
  load_config_file(path.string(), cfg);
  std::filesystem::remove(path);
  return cfg;
}

TEST(ConfigGrpc, OffByDefault) {
  Config cfg;
  EXPECT_TRUE(cfg.grpc_listen.host.empty());
  EXPECT_EQ(cfg.grpc_park_seconds, 15);
  EXPECT_EQ(cfg.grpc_ring_seconds, 30);
}

TEST(ConfigGrpc, ListenAndParkTime) {
  auto cfg = load("grpc_listen: 127.0.0.1:50051\ngrpc_park_seconds: 5\n");
  EXPECT_EQ(cfg.grpc_listen.host, "127.0.0.1");
  EXPECT_EQ(cfg.grpc_listen.port, 50051);
  EXPECT_EQ(cfg.grpc_park_seconds, 5);
  EXPECT_EQ(load("grpc_ring_seconds: 4\n").grpc_ring_seconds, 4);
  EXPECT_THROW(load("grpc_ring_seconds: 0\n"), ConfigError);
  EXPECT_TRUE(load("grpc_listen: off\n").grpc_listen.host.empty());
}

TEST(ConfigGrpc, BadValuesNameTheKey) {
  EXPECT_THROW(load("grpc_listen: nowhere\n"), ConfigError);
  try {
    load("grpc_park_seconds: 0\n");
    FAIL() << "accepted a park time of 0";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("grpc_park_seconds"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace atende
