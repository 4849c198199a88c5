// SDES (RFC 4568) a=crypto: the parser on what real peers send and on hostile variations,
// the builder, and negotiation under each SRTP policy (offers and answers).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "sip/sdp.h"
#include "sip/sdp_build.h"
#include "sip/sdp_crypto.h"
#include "sip/sdp_negotiate.h"

namespace atende::sip {
namespace {

// 30 bytes: 0x00 0x01 ... 0x1d, base64.
constexpr const char* kKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd";

CryptoParseResult parse(const std::string& v) { return parse_crypto(v); }

TEST(SdpCrypto, ParsesBaresipAttribute) {
  auto r = parse(std::string("1 AES_CM_128_HMAC_SHA1_80 inline:") + kKey);
  ASSERT_EQ(r.status, CryptoParse::kOk);
  EXPECT_EQ(r.attribute.tag, 1u);
  EXPECT_EQ(r.attribute.suite, CryptoSuite::kAesCm128HmacSha1_80);
  for (size_t i = 0; i < kCryptoKeySaltBytes; ++i) EXPECT_EQ(r.attribute.key_salt[i], i);
}

TEST(SdpCrypto, ParsesThe32BitSuiteLifetimeAndWindow) {
  auto r = parse(std::string("7 AES_CM_128_HMAC_SHA1_32 inline:") + kKey + "|2^31 WSH=128");
  ASSERT_EQ(r.status, CryptoParse::kOk);
  EXPECT_EQ(r.attribute.tag, 7u);
  EXPECT_EQ(r.attribute.suite, CryptoSuite::kAesCm128HmacSha1_32);
  EXPECT_EQ(parse(std::string("2 AES_CM_128_HMAC_SHA1_80 inline:") + kKey + "|1048576").status,
            CryptoParse::kOk);
}

TEST(SdpCrypto, UnsupportedButWellFormed) {
  const std::string key = kKey;
  for (const std::string& v : {
           "1 AES_256_CM_HMAC_SHA1_80 inline:" + key,                     // another suite
           "1 F8_128_HMAC_SHA1_80 inline:" + key,                         // another cipher
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20|1:4",       // MKI
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|1:4",            // MKI, no lifetime
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + ";inline:" + key,  // two keys
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " UNENCRYPTED_SRTP",
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " UNAUTHENTICATED_SRTP",
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " KDR=24",
       }) {
    EXPECT_EQ(parse(v).status, CryptoParse::kUnsupported) << v;
  }
}

TEST(SdpCrypto, MalformedIsRefused) {
  const std::string key = kKey;
  for (const std::string& v : {
           std::string(""),
           std::string("1"),
           std::string("1 AES_CM_128_HMAC_SHA1_80"),
           "x AES_CM_128_HMAC_SHA1_80 inline:" + key,           // tag not a number
           "1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + key,  // tag over 9 digits
           "-1 AES_CM_128_HMAC_SHA1_80 inline:" + key,
           "1 AES_CM_128_HMAC_SHA1_80 outline:" + key,               // not inline
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key.substr(0, 39),  // short key
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "AAAA",       // long key
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key.substr(0, 38) + "==",
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key.substr(0, 39) + "!",
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|",
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^",
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^99",
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|x",
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|1:4|2^20",  // MKI then lifetime
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20|7",    // second is not MKI
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20|1:4|9",
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|1:999",  // MKI length > 128
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " WSH=1",  // window under 64
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + std::string(600, ' ') + "WSH=64",
           "1 AES_CM_128_HMAC_SHA1_80 inline:" + key +
               " WSH=64 WSH=64 WSH=64 WSH=64 WSH=64 WSH=64 WSH=64 WSH=64 WSH=64",
       }) {
    EXPECT_EQ(parse(v).status, CryptoParse::kMalformed) << v;
  }
}

TEST(SdpCrypto, FormatRoundTrips) {
  auto made = make_crypto(3, CryptoSuite::kAesCm128HmacSha1_32);
  ASSERT_TRUE(made);
  const std::string text = format_crypto(*made);
  EXPECT_EQ(text.rfind("3 AES_CM_128_HMAC_SHA1_32 inline:", 0), 0u) << text;
  EXPECT_EQ(text.size(), std::string("3 AES_CM_128_HMAC_SHA1_32 inline:").size() + 40);
  auto back = parse(text);
  ASSERT_EQ(back.status, CryptoParse::kOk);
  EXPECT_TRUE(back.attribute == *made);
}

TEST(SdpCrypto, KeysAreFreshEachTime) {
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    auto c = make_crypto(1, CryptoSuite::kAesCm128HmacSha1_80);
    ASSERT_TRUE(c);
    EXPECT_TRUE(seen.insert(format_crypto(*c)).second);
  }
}

TEST(SdpCrypto, PolicyNames) {
  EXPECT_EQ(parse_srtp_policy("off"), SrtpPolicy::kOff);
  EXPECT_EQ(parse_srtp_policy("optional"), SrtpPolicy::kOptional);
  EXPECT_EQ(parse_srtp_policy("required"), SrtpPolicy::kRequired);
  EXPECT_FALSE(parse_srtp_policy("Required"));
  EXPECT_FALSE(parse_srtp_policy(""));
  EXPECT_STREQ(to_string(SrtpPolicy::kRequired), "required");
}

// --- in SDP ---------------------------------------------------------------------------

std::string offer(std::string_view proto, std::string_view crypto_lines) {
  return "v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n"
         "m=audio 4000 " +
         std::string(proto) + " 0 101\r\na=rtpmap:0 PCMU/8000\r\n" +
         "a=rtpmap:101 telephone-event/8000\r\n" + std::string(crypto_lines);
}

std::string crypto_line(int tag, std::string_view suite) {
  return "a=crypto:" + std::to_string(tag) + " " + std::string(suite) + " inline:" + kKey + "\r\n";
}

SessionDescription parse_ok(const std::string& body) {
  auto r = parse_sdp(body);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : SessionDescription{};
}

SdpResult<NegotiatedAudio> answer_to(const std::string& body, SrtpPolicy policy) {
  auto codecs = default_codecs();
  return negotiate_offer(parse_ok(body), codecs, policy);
}

TEST(SdpCryptoParse, KeepsUsableAttributesAndCountsTheRest) {
  auto sdp = parse_ok(offer("RTP/SAVP", crypto_line(1, "AES_256_CM_HMAC_SHA1_80") +
                                            crypto_line(2, "AES_CM_128_HMAC_SHA1_32") +
                                            "a=crypto:3 garbage\r\n" +
                                            crypto_line(2, "AES_CM_128_HMAC_SHA1_80") +
                                            crypto_line(4, "AES_CM_128_HMAC_SHA1_80")));
  ASSERT_EQ(sdp.media.size(), 1u);
  const auto& m = sdp.media[0];
  ASSERT_EQ(m.crypto.size(), 2u);
  EXPECT_EQ(m.crypto[0].tag, 2u);
  EXPECT_EQ(m.crypto[0].suite, CryptoSuite::kAesCm128HmacSha1_32);
  EXPECT_EQ(m.crypto[1].tag, 4u);
  EXPECT_EQ(m.crypto_unusable, 3);  // other suite, garbage, repeated tag 2
  EXPECT_TRUE(m.is_savp());
}

TEST(SdpCryptoParse, BoundedCount) {
  std::string lines;
  for (int i = 1; i <= 40; ++i) lines += crypto_line(i, "AES_CM_128_HMAC_SHA1_80");
  auto sdp = parse_ok(offer("RTP/SAVP", lines));
  EXPECT_EQ(sdp.media[0].crypto.size(), SdpLimits{}.max_crypto_per_media);
}

TEST(SdpCryptoParse, SessionLevelAndNonRtpIgnored) {
  auto sdp = parse_ok("v=0\r\nc=IN IP4 10.0.0.9\r\n" + crypto_line(1, "AES_CM_128_HMAC_SHA1_80") +
                      "m=message 9 TCP/MSRP *\r\n" + crypto_line(1, "AES_CM_128_HMAC_SHA1_80"));
  EXPECT_TRUE(sdp.media[0].crypto.empty());
}

TEST(SdpSrtpNegotiate, SavpOfferUnderEachPolicy) {
  const std::string body = offer("RTP/SAVP", crypto_line(5, "AES_CM_128_HMAC_SHA1_80"));
  for (auto policy : {SrtpPolicy::kOptional, SrtpPolicy::kRequired}) {
    auto r = answer_to(body, policy);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_TRUE(r.value().srtp());
    EXPECT_EQ(r.value().proto, "RTP/SAVP");
    EXPECT_EQ(r.value().remote_crypto->tag, 5u);
  }
  auto off = answer_to(body, SrtpPolicy::kOff);
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.error().code, SdpErrc::kNotAcceptable);
}

TEST(SdpSrtpNegotiate, PlainOfferUnderEachPolicy) {
  const std::string body = offer("RTP/AVP", "");
  for (auto policy : {SrtpPolicy::kOff, SrtpPolicy::kOptional}) {
    auto r = answer_to(body, policy);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(r.value().srtp());
  }
  auto required = answer_to(body, SrtpPolicy::kRequired);
  ASSERT_FALSE(required.ok());
  EXPECT_EQ(required.error().code, SdpErrc::kNotAcceptable);
  EXPECT_EQ(required.error().message, "SRTP is required here: plain RTP offered");
}

TEST(SdpSrtpNegotiate, BestEffortSrtpOnAvp) {
  // baresip's mediaenc=srtp: RTP/AVP with a=crypto (RFC 8643 opportunistic SRTP).
  const std::string body = offer("RTP/AVP", crypto_line(1, "AES_CM_128_HMAC_SHA1_32"));
  auto optional = answer_to(body, SrtpPolicy::kOptional);
  ASSERT_TRUE(optional.ok());
  EXPECT_TRUE(optional.value().srtp());
  EXPECT_EQ(optional.value().proto, "RTP/AVP");
  auto required = answer_to(body, SrtpPolicy::kRequired);
  ASSERT_TRUE(required.ok());
  EXPECT_TRUE(required.value().srtp());
  auto off = answer_to(body, SrtpPolicy::kOff);
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off.value().srtp());  // plain answer: the offerer falls back to RTP
}

TEST(SdpSrtpNegotiate, SavpWithoutUsableKeyIs488) {
  auto r = answer_to(offer("RTP/SAVP", crypto_line(1, "AES_256_CM_HMAC_SHA1_80")),
                     SrtpPolicy::kRequired);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, SdpErrc::kNotAcceptable);
  EXPECT_NE(r.error().message.find("a=crypto"), std::string::npos);
}

TEST(SdpSrtpNegotiate, RequiredPicksTheSecureLineOfTwo) {
  const std::string body =
      "v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP 0\r\nm=audio 4002 RTP/SAVP 0\r\n" +
      crypto_line(1, "AES_CM_128_HMAC_SHA1_80");
  auto r = answer_to(body, SrtpPolicy::kRequired);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().media_index, 1u);
  EXPECT_TRUE(r.value().srtp());
}

LocalSdp local() {
  LocalSdp l;
  l.address = "192.0.2.10";
  l.rtp_port = 20000;
  l.session_id = 1;
  l.session_version = 1;
  return l;
}

TEST(SdpSrtpBuild, AnswerCarriesOurKeyUnderTheirTag) {
  auto r = answer_to(offer("RTP/SAVP", crypto_line(9, "AES_CM_128_HMAC_SHA1_80")),
                     SrtpPolicy::kRequired);
  ASSERT_TRUE(r.ok());
  LocalSdp l = local();
  auto ours = make_crypto(1, CryptoSuite::kAesCm128HmacSha1_80);
  l.crypto = {*ours};
  auto answer = build_answer(r.value(), l);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  const std::string& text = answer.value();
  EXPECT_NE(text.find("m=audio 20000 RTP/SAVP 0 101\r\n"), std::string::npos) << text;
  CryptoAttribute tagged = *ours;
  tagged.tag = 9;
  EXPECT_NE(text.find("a=crypto:" + format_crypto(tagged) + "\r\n"), std::string::npos) << text;
  EXPECT_EQ(text.find(kKey), std::string::npos);  // never their key back
  // Without a key of the chosen suite the answer cannot be built.
  l.crypto = {*make_crypto(1, CryptoSuite::kAesCm128HmacSha1_32)};
  EXPECT_FALSE(build_answer(r.value(), l).ok());
}

TEST(SdpSrtpBuild, OffersAndReadsTheAnswer) {
  LocalSdp l = local();
  l.savp = true;
  l.crypto = {*make_crypto(1, CryptoSuite::kAesCm128HmacSha1_80),
              *make_crypto(2, CryptoSuite::kAesCm128HmacSha1_32)};
  auto codecs = default_codecs();
  auto text = build_offer(l, codecs);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text.value().find("m=audio 20000 RTP/SAVP 0 8 9 101\r\n"), std::string::npos);
  EXPECT_NE(text.value().find("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"), std::string::npos);
  EXPECT_NE(text.value().find("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"), std::string::npos);
  // Our own offer parses back with both keys.
  auto back = parse_ok(text.value());
  ASSERT_EQ(back.media[0].crypto.size(), 2u);

  // They answer with tag 2 (suite _32): accepted, their key kept.
  auto answer = parse_ok(offer("RTP/SAVP", crypto_line(2, "AES_CM_128_HMAC_SHA1_32")));
  auto n = negotiate_answer(answer, codecs, 1, l.crypto, SrtpPolicy::kRequired);
  ASSERT_TRUE(n.ok()) << n.error().message;
  ASSERT_TRUE(n.value().srtp());
  EXPECT_EQ(n.value().remote_crypto->tag, 2u);
  // A tag we did not offer, or a suite that does not match the tag: refused.
  auto wrong_tag = parse_ok(offer("RTP/SAVP", crypto_line(3, "AES_CM_128_HMAC_SHA1_80")));
  EXPECT_FALSE(negotiate_answer(wrong_tag, codecs, 1, l.crypto, SrtpPolicy::kRequired).ok());
  auto wrong_suite = parse_ok(offer("RTP/SAVP", crypto_line(1, "AES_CM_128_HMAC_SHA1_32")));
  EXPECT_FALSE(negotiate_answer(wrong_suite, codecs, 1, l.crypto, SrtpPolicy::kRequired).ok());
  // Plain answer: refused when required, plain RTP when optional.
  auto plain = parse_ok(offer("RTP/AVP", ""));
  EXPECT_FALSE(negotiate_answer(plain, codecs, 1, l.crypto, SrtpPolicy::kRequired).ok());
  auto optional = negotiate_answer(plain, codecs, 1, l.crypto, SrtpPolicy::kOptional);
  ASSERT_TRUE(optional.ok());
  EXPECT_FALSE(optional.value().srtp());
  // An SRTP answer to a plain offer is not what we asked for.
  auto savp = parse_ok(offer("RTP/SAVP", crypto_line(1, "AES_CM_128_HMAC_SHA1_80")));
  EXPECT_FALSE(negotiate_answer(savp, codecs, 1, {}, SrtpPolicy::kOff).ok());
}

TEST(SdpSrtpBuild, OpportunisticOfferIsAvpWithKeys) {
  LocalSdp l = local();
  l.crypto = {*make_crypto(1, CryptoSuite::kAesCm128HmacSha1_80)};
  auto codecs = default_codecs();
  auto text = build_offer(l, codecs);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text.value().find("m=audio 20000 RTP/AVP "), std::string::npos);
  EXPECT_NE(text.value().find("a=crypto:1 "), std::string::npos);
  l.crypto.clear();
  l.savp = true;
  EXPECT_FALSE(build_offer(l, codecs).ok());  // SAVP with no key
}

}  // namespace
}  // namespace atende::sip
