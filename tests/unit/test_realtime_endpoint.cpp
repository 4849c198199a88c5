// realtime.url: what the Realtime client can dial (ws://, numeric host or localhost).
#include <gtest/gtest.h>

#include "realtime/realtime_client.h"

namespace atende::realtime {
namespace {

TEST(RealtimeEndpoint, ParsesWsUrls) {
  Endpoint e;
  EXPECT_EQ(parse_endpoint("ws://127.0.0.1:8089/v1/realtime?model=gpt-realtime", e), "");
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 8089);
  EXPECT_EQ(e.target, "/v1/realtime?model=gpt-realtime");
  EXPECT_EQ(parse_endpoint("ws://localhost:80", e), "");
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.target, "/");
  EXPECT_EQ(parse_endpoint("ws://[::1]:9000/rt", e), "");
  EXPECT_EQ(e.host, "::1");
}

TEST(RealtimeEndpoint, RefusesWhatItCannotDial) {
  Endpoint e;
  EXPECT_EQ(parse_endpoint("wss://api.openai.com/v1/realtime", e),
            "wss:// is not supported in this version: use ws://");
  EXPECT_EQ(parse_endpoint("http://127.0.0.1:80/", e), "not a ws:// URL");
  EXPECT_EQ(parse_endpoint("ws://127.0.0.1/", e), "no port");
  EXPECT_EQ(parse_endpoint("ws://api.openai.com:443/", e),
            "the host must be a numeric address or localhost");
  EXPECT_EQ(parse_endpoint("ws://127.0.0.1:0/", e), "bad port");
  EXPECT_EQ(parse_endpoint("ws://127.0.0.1:70000/", e), "bad port");
  EXPECT_EQ(parse_endpoint("ws://127.0.0.1:80x/", e), "bad port");
  EXPECT_EQ(parse_endpoint("ws://127.0.0.1:80/a b", e), "control character in the path");
  EXPECT_EQ(parse_endpoint("ws://127.0.0.1:80/" + std::string(2000, 'a'), e),
            "longer than 1024 bytes");
}

}  // namespace
}  // namespace atende::realtime
