#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "hooks/signature.h"
#include "hooks/webhook_sender.h"

namespace atende::hooks {
namespace {

// RFC 4231 section 4.3, test case 2 (a key shorter than the block, ASCII data).
TEST(HookSignature, HmacSha256Rfc4231Case2) {
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// RFC 4231 section 4.2, test case 1 (binary key of 20 bytes 0x0b).
TEST(HookSignature, HmacSha256Rfc4231Case1) {
  EXPECT_EQ(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HookSignature, SignsTimestampDotBody) {
  const std::string body = R"({"type":"call.ended"})";
  EXPECT_EQ(webhook_signature("s3cret", 1700000000, body),
            "sha256=" + hmac_sha256_hex("s3cret", "1700000000." + body));
  // Another timestamp, another signature: an old signature does not fit a new timestamp.
  EXPECT_NE(webhook_signature("s3cret", 1700000000, body),
            webhook_signature("s3cret", 1700000001, body));
}

TEST(HookSignature, RandomUuidsAreVersion4AndDistinct) {
  const std::regex shape("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = random_uuid();
    EXPECT_TRUE(std::regex_match(id, shape)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(HookBody, EnvelopeCarriesTypeCallIdTimeAndPayload) {
  sessions::SessionEvent ev;
  ev.type = "call.answered";
  ev.call_id = "abc@host";
  ev.at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1714564800123));
  ev.json = R"({"flow":"ivr","from":"sip:alice@example.com"})";
  const std::string body = webhook_body(ev);
  EXPECT_EQ(body, R"({"type":"call.answered","call_id":"abc@host","at":"2024-05-01T12:00:00.123Z",)"
                  R"("data":{"flow":"ivr","from":"sip:alice@example.com"}})");
  ev.json = "not json";
  EXPECT_TRUE(nlohmann::json::parse(webhook_body(ev))["data"].is_null());
  ev.json = "";
  EXPECT_TRUE(nlohmann::json::parse(webhook_body(ev))["data"].is_object());
}

TEST(HookBody, Iso8601BeforeEpochAndRedactedUrls) {
  EXPECT_EQ(format_iso8601_ms(std::chrono::system_clock::time_point(std::chrono::milliseconds(-1))),
            "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(redact_url("https://user:pw@hooks.example.com:8443/in/atende?token=x#f"),
            "https://hooks.example.com:8443/in/atende");
  EXPECT_EQ(redact_url("http://127.0.0.1:9/"), "http://127.0.0.1:9/");
  EXPECT_EQ(redact_url("http://h?k=v"), "http://h");
}

TEST(HookBackoff, DefaultDoublesFromOneSecondWithJitterAndCap) {
  using std::chrono::milliseconds;
  for (int i = 0; i < 50; ++i) {
    auto first = default_webhook_backoff(1);
    EXPECT_GE(first, milliseconds(800));
    EXPECT_LE(first, milliseconds(1200));
    auto third = default_webhook_backoff(3);
    EXPECT_GE(third, milliseconds(3200));
    EXPECT_LE(third, milliseconds(4800));
    EXPECT_LE(default_webhook_backoff(30), milliseconds(72000));
  }
}

}  // namespace
}  // namespace atende::hooks
