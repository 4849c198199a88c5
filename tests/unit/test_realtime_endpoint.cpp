// realtime.url: what the Realtime client can dial (ws:// or wss://, a DNS name or an address).
#include <gtest/gtest.h>

#include "realtime/realtime_client.h"

namespace atende::realtime {
namespace {

TEST(RealtimeEndpoint, ParsesWsUrls) {
  Endpoint e;
  EXPECT_EQ(parse_endpoint("ws://127.0.0.1:8089/v1/realtime?model=gpt-realtime", e), "");
  EXPECT_FALSE(e.tls);
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 8089);
  EXPECT_EQ(e.target, "/v1/realtime?model=gpt-realtime");
  EXPECT_EQ(parse_endpoint("ws://localhost:80", e), "");
  EXPECT_EQ(e.host, "localhost");  // dialled at 127.0.0.1
  EXPECT_EQ(e.target, "/");
  EXPECT_EQ(parse_endpoint("ws://[::1]:9000/rt", e), "");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, 9000);
  EXPECT_EQ(parse_endpoint("ws://127.0.0.1/", e), "");
  EXPECT_EQ(e.port, 80);
}

TEST(RealtimeEndpoint, ParsesWssUrls) {
  Endpoint e;
  EXPECT_EQ(parse_endpoint("wss://api.openai.com/v1/realtime?model=gpt-realtime", e), "");
  EXPECT_TRUE(e.tls);
  EXPECT_EQ(e.host, "api.openai.com");
  EXPECT_EQ(e.port, 443);
  EXPECT_EQ(e.target, "/v1/realtime?model=gpt-realtime");
  EXPECT_EQ(parse_endpoint("wss://127.0.0.1:8443/rt", e), "");
  EXPECT_TRUE(e.tls);
  EXPECT_EQ(e.port, 8443);
  EXPECT_EQ(parse_endpoint("wss://[::1]/rt", e), "");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, 443);
}

TEST(RealtimeEndpoint, RefusesWhatItCannotDial) {
  Endpoint e;
  EXPECT_EQ(parse_endpoint("http://127.0.0.1:80/", e), "not a ws:// or wss:// URL");
  EXPECT_EQ(parse_endpoint("ws://bad_name.example:443/", e),
            "the host must be a DNS name or an address");
  EXPECT_EQ(parse_endpoint("ws://-bad.example/", e), "the host must be a DNS name or an address");
  EXPECT_EQ(parse_endpoint("ws://a..b/", e), "the host must be a DNS name or an address");
  EXPECT_EQ(parse_endpoint("ws://:80/", e), "the host must be a DNS name or an address");
  EXPECT_EQ(parse_endpoint("wss://user:pw@api.openai.com/", e), "user info in the URL");
  EXPECT_EQ(parse_endpoint("ws://[::1/", e), "unclosed [ in the host");
  EXPECT_EQ(parse_endpoint("ws://[zz]:80/", e), "bad IPv6 address");
  EXPECT_EQ(parse_endpoint("ws://127.0.0.1:/", e), "bad port");
  EXPECT_EQ(parse_endpoint("ws://127.0.0.1:0/", e), "bad port");
  EXPECT_EQ(parse_endpoint("ws://127.0.0.1:70000/", e), "bad port");
  EXPECT_EQ(parse_endpoint("ws://127.0.0.1:80x/", e), "bad port");
  EXPECT_EQ(parse_endpoint("ws://127.0.0.1:80/a b", e), "control character in the path");
  EXPECT_EQ(parse_endpoint("ws://127.0.0.1:80/" + std::string(2000, 'a'), e),
            "longer than 1024 bytes");
}

}  // namespace
}  // namespace atende::realtime
