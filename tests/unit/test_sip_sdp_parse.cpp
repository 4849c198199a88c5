// Parser tests: real offers parse into the right fields; hostile or absurd input is refused
// with an error (never a crash), and error messages never echo the input.
#include <gtest/gtest.h>

#include <string>

#include "sip/sdp.h"

namespace atende::sip {
namespace {

// Test bodies are written with \n; real ones use CRLF, so convert (parser accepts both).
std::string crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

constexpr std::string_view kSippOffer =
    "v=0\n"
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1\n"
    "s=-\n"
    "c=IN IP4 127.0.0.1\n"
    "t=0 0\n"
    "m=audio 6000 RTP/AVP 0\n"
    "a=rtpmap:0 PCMU/8000\n";

TEST(SdpParse, SippOfferFields) {
  auto r = parse_sdp(crlf(kSippOffer));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const SessionDescription& s = r.value();
  ASSERT_TRUE(s.origin);
  EXPECT_EQ(s.origin->username, "user1");
  EXPECT_EQ(s.origin->session_id, "53655765");
  EXPECT_EQ(s.origin->session_version, "2353687637");
  EXPECT_EQ(s.session_name, "-");
  ASSERT_TRUE(s.connection);
  EXPECT_EQ(s.connection->family, AddressFamily::kIp4);
  EXPECT_EQ(s.connection->address, "127.0.0.1");
  ASSERT_EQ(s.media.size(), 1u);
  const MediaDescription& m = s.media[0];
  EXPECT_EQ(m.media, "audio");
  EXPECT_EQ(m.port, 6000);
  EXPECT_EQ(m.proto, "RTP/AVP");
  EXPECT_EQ(m.payload_types, std::vector<int>{0});
  ASSERT_EQ(m.rtpmaps.size(), 1u);
  EXPECT_EQ(m.rtpmaps[0].encoding, "PCMU");
  EXPECT_EQ(m.rtpmaps[0].clock_rate, 8000);
  EXPECT_EQ(s.direction_for(m), MediaDirection::kSendRecv);
}

TEST(SdpParse, AcceptsBareLfAndMissingFinalNewline) {
  std::string body(kSippOffer);
  body.pop_back();
  auto r = parse_sdp(body);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().media[0].rtpmaps.size(), 1u);
}

TEST(SdpParse, LinphoneOfferWithVideoAndManyAttributes) {
  auto r =
      parse_sdp(crlf("v=0\n"
                     "o=bob 2145 3076 IN IP4 192.168.1.20\n"
                     "s=Talk\n"
                     "c=IN IP4 192.168.1.20\n"
                     "t=0 0\n"
                     "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\n"
                     "m=audio 7078 RTP/AVP 96 97 0 8 18 101 100\n"
                     "a=rtpmap:96 opus/48000/2\n"
                     "a=fmtp:96 useinbandfec=1\n"
                     "a=rtpmap:97 speex/16000\n"
                     "a=fmtp:18 annexb=yes\n"
                     "a=rtpmap:101 telephone-event/48000\n"
                     "a=rtpmap:100 telephone-event/8000\n"
                     "a=rtcp-fb:* trr-int 1000\n"
                     "m=video 9078 RTP/AVP 96 97\n"
                     "a=rtpmap:96 VP8/90000\n"
                     "a=rtpmap:97 H264/90000\n"
                     "a=fmtp:97 profile-level-id=42801F\n"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& s = r.value();
  ASSERT_EQ(s.media.size(), 2u);
  EXPECT_EQ(s.media[0].payload_types, (std::vector<int>{96, 97, 0, 8, 18, 101, 100}));
  ASSERT_NE(s.media[0].find_rtpmap(96), nullptr);
  EXPECT_EQ(s.media[0].find_rtpmap(96)->channels, 2);
  ASSERT_NE(s.media[0].find_fmtp(18), nullptr);
  EXPECT_EQ(s.media[0].find_fmtp(18)->parameters, "annexb=yes");
  EXPECT_EQ(s.media[0].find_rtpmap(0), nullptr);
  EXPECT_EQ(s.media[1].media, "video");
  EXPECT_EQ(s.media[1].find_rtpmap(96)->encoding, "VP8");
}

TEST(SdpParse, MediaLevelConnectionOverridesSession) {
  auto r = parse_sdp(
      "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\nc=IN IP4 10.0.0.2\n"
      "m=audio 4002 RTP/AVP 0\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& s = r.value();
  EXPECT_EQ(s.connection_for(s.media[0])->address, "10.0.0.2");
  EXPECT_EQ(s.connection_for(s.media[1])->address, "10.0.0.1");
}

TEST(SdpParse, Ipv6Connection) {
  auto r = parse_sdp("v=0\nc=IN IP6 2001:db8::1\nm=audio 4000 RTP/AVP 0\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().connection->family, AddressFamily::kIp6);
  EXPECT_EQ(r.value().connection->address, "2001:db8::1");
  EXPECT_FALSE(r.value().connection->is_unspecified());
}

TEST(SdpParse, UnspecifiedAddressesAreHold) {
  auto v4 = parse_sdp("v=0\nc=IN IP4 0.0.0.0\nm=audio 4000 RTP/AVP 0\n");
  auto v6 = parse_sdp("v=0\nc=IN IP6 ::\nm=audio 4000 RTP/AVP 0\n");
  ASSERT_TRUE(v4.ok() && v6.ok());
  EXPECT_TRUE(v4.value().connection->is_unspecified());
  EXPECT_TRUE(v6.value().connection->is_unspecified());
}

TEST(SdpParse, MulticastTtlSuffixIsDropped) {
  auto r = parse_sdp("v=0\nc=IN IP4 224.2.1.1/127\nm=audio 4000 RTP/AVP 0\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().connection->address, "224.2.1.1");
}

TEST(SdpParse, RejectsBadConnectionAddresses) {
  for (const char* c : {"c=IN IP4 pbx.example.com", "c=IN IP4 2001:db8::1", "c=IN IP6 10.0.0.1",
                        "c=IN IP4 10.0.0.256", "c=ATM NSAP 47.0005", "c=IN IP4", "c=IN IP5 1.2.3.4",
                        "c=IN IP4 1.2.3.4 extra"}) {
    auto r = parse_sdp(std::string("v=0\n") + c + "\nm=audio 4000 RTP/AVP 0\n");
    EXPECT_FALSE(r.ok()) << c;
  }
}

TEST(SdpParse, DirectionAttributesSessionAndMedia) {
  auto r = parse_sdp(
      "v=0\nc=IN IP4 10.0.0.1\na=sendonly\nm=audio 4000 RTP/AVP 0\n"
      "m=audio 4002 RTP/AVP 0\na=inactive\nm=audio 4004 RTP/AVP 0\na=recvonly\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& s = r.value();
  EXPECT_EQ(s.direction_for(s.media[0]), MediaDirection::kSendOnly);
  EXPECT_EQ(s.direction_for(s.media[1]), MediaDirection::kInactive);
  EXPECT_EQ(s.direction_for(s.media[2]), MediaDirection::kRecvOnly);
}

TEST(SdpParse, Ptime) {
  auto r = parse_sdp(
      "v=0\nm=audio 4000 RTP/AVP 0\na=ptime:30\nm=audio 4002 RTP/AVP 0\n"
      "a=ptime:20.0\nm=audio 4004 RTP/AVP 0\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().media[0].ptime_ms, 30);
  EXPECT_EQ(r.value().media[1].ptime_ms, 20);
  EXPECT_EQ(r.value().media[2].ptime_ms, 0);
  for (const char* p : {"a=ptime:0", "a=ptime:1001", "a=ptime:-20", "a=ptime:", "a=ptime:20.x",
                        "a=ptime:99999999999999"}) {
    EXPECT_FALSE(parse_sdp(std::string("v=0\nm=audio 4000 RTP/AVP 0\n") + p + "\n").ok()) << p;
  }
}

TEST(SdpParse, PortCountAndNonRtpMedia) {
  auto r = parse_sdp(
      "v=0\nm=audio 4000/2 RTP/AVP 0\nm=message 2855 TCP/MSRP *\n"
      "m=image 0 udptl t38\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().media[0].port_count, 2);
  EXPECT_EQ(r.value().media[1].formats, std::vector<std::string>{"*"});
  EXPECT_TRUE(r.value().media[1].payload_types.empty());
  EXPECT_EQ(r.value().media[2].port, 0);
  EXPECT_FALSE(parse_sdp("v=0\nm=audio 4000/0 RTP/AVP 0\n").ok());
  EXPECT_FALSE(parse_sdp("v=0\nm=audio 4000/ RTP/AVP 0\n").ok());
}

TEST(SdpParse, RtpmapForUnlistedTypeIsIgnored) {
  auto r = parse_sdp("v=0\nm=audio 4000 RTP/AVP 0\na=rtpmap:101 telephone-event/8000\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r.value().media[0].rtpmaps.empty());
}

TEST(SdpParse, SessionLevelRtpmapIsIgnored) {
  auto r = parse_sdp("v=0\na=rtpmap:0 PCMA/8000\nm=audio 4000 RTP/AVP 0\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r.value().media[0].rtpmaps.empty());
}

struct BadCase {
  const char* name;
  std::string body;
  SdpErrc code;
};

class SdpParseRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(SdpParseRejects, WithClearError) {
  auto r = parse_sdp(GetParam().body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, GetParam().code) << r.error().message;
  EXPECT_FALSE(r.error().message.empty());
  // The error text is for logs: it must not carry attacker bytes.
  EXPECT_EQ(r.error().message.find("EVIL"), std::string::npos);
}

// A string literal with embedded NULs, all of it.
template <std::size_t N>
std::string bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

std::string payload_list(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += " " + std::to_string(i % 128);
  return s;
}

std::string many_media(int n) {
  std::string s = "v=0\n";
  for (int i = 0; i < n; ++i) s += "m=audio 4000 RTP/AVP 0\n";
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, SdpParseRejects,
    ::testing::Values(
        BadCase{"empty", "", SdpErrc::kMalformed},
        BadCase{"blank", "\r\n\r\n", SdpErrc::kMalformed},
        BadCase{"no_version", "o=- 1 1 IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 0\n",
                SdpErrc::kMalformed},
        BadCase{"version_1", "v=1\n", SdpErrc::kMalformed},
        BadCase{"repeated_version", "v=0\nv=0\n", SdpErrc::kMalformed},
        BadCase{"port_99999", "v=0\nm=audio 99999 RTP/AVP 0\n", SdpErrc::kMalformed},
        BadCase{"port_negative", "v=0\nm=audio -1 RTP/AVP 0\n", SdpErrc::kMalformed},
        BadCase{"port_huge", "v=0\nm=audio 99999999999999999999999 RTP/AVP 0\n",
                SdpErrc::kMalformed},
        BadCase{"pt_300", "v=0\nm=audio 4000 RTP/AVP 0 300\n", SdpErrc::kMalformed},
        BadCase{"pt_128", "v=0\nm=audio 4000 RTP/AVP 128\n", SdpErrc::kMalformed},
        BadCase{"pt_word", "v=0\nm=audio 4000 RTP/AVP EVIL\n", SdpErrc::kMalformed},
        BadCase{"pt_repeated", "v=0\nm=audio 4000 RTP/AVP 0 0\n", SdpErrc::kMalformed},
        BadCase{"rtpmap_pt_300", "v=0\nm=audio 4000 RTP/AVP 0\na=rtpmap:300 PCMU/8000\n",
                SdpErrc::kMalformed},
        BadCase{"rtpmap_rate_0", "v=0\nm=audio 4000 RTP/AVP 96\na=rtpmap:96 PCMU/0\n",
                SdpErrc::kMalformed},
        BadCase{"rtpmap_no_rate", "v=0\nm=audio 4000 RTP/AVP 96\na=rtpmap:96 PCMU\n",
                SdpErrc::kMalformed},
        BadCase{"rtpmap_channels_99", "v=0\nm=audio 4000 RTP/AVP 96\na=rtpmap:96 opus/48000/99\n",
                SdpErrc::kMalformed},
        BadCase{"rtpmap_repeated",
                "v=0\nm=audio 4000 RTP/AVP 96\na=rtpmap:96 PCMU/8000\na=rtpmap:96 PCMA/8000\n",
                SdpErrc::kMalformed},
        BadCase{"no_formats", "v=0\nm=audio 4000 RTP/AVP\n", SdpErrc::kMalformed},
        BadCase{"200_payloads", "v=0\nm=audio 4000 RTP/AVP" + payload_list(200) + "\n",
                SdpErrc::kTooLarge},
        BadCase{"10000_payloads", "v=0\nm=audio 4000 RTP/AVP" + payload_list(10000) + "\n",
                SdpErrc::kTooLarge},
        BadCase{"1MB_line", "v=0\ns=" + std::string(1 << 20, 'x') + "\n", SdpErrc::kTooLarge},
        BadCase{"2KB_line", "v=0\ns=" + std::string(2048, 'x') + "\n", SdpErrc::kTooLarge},
        BadCase{"too_many_media", many_media(17), SdpErrc::kTooLarge},
        BadCase{"nul_byte", bytes("v=0\ns=EV\0IL\nm=audio 4000 RTP/AVP 0\n"), SdpErrc::kMalformed},
        BadCase{"nul_in_port", bytes("v=0\nm=audio 40\00000 RTP/AVP 0\n"), SdpErrc::kMalformed},
        BadCase{"escape_byte", "v=0\ns=EVIL\x1b[2J\n", SdpErrc::kMalformed},
        BadCase{"lone_cr_inside", "v=0\ns=EVIL\rinjected\n", SdpErrc::kMalformed},
        BadCase{"no_equals", "v=0\nEVIL\n", SdpErrc::kMalformed},
        BadCase{"uppercase_type", "v=0\nM=audio 4000 RTP/AVP 0\n", SdpErrc::kMalformed},
        BadCase{"repeated_session_c",
                "v=0\nc=IN IP4 1.2.3.4\nc=IN IP4 1.2.3.5\nm=audio 4000 RTP/AVP 0\n",
                SdpErrc::kMalformed},
        BadCase{"bad_origin", "v=0\no=EVIL\n", SdpErrc::kMalformed},
        BadCase{"origin_id_not_number", "v=0\no=- EVIL 1 IN IP4 1.2.3.4\n", SdpErrc::kMalformed},
        BadCase{"bad_media_token", "v=0\nm=au\xffio 4000 RTP/AVP 0\n", SdpErrc::kMalformed}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SdpParse, TooManyLines) {
  std::string body = "v=0\n";
  for (int i = 0; i < 300; ++i) body += "a=x\n";
  auto r = parse_sdp(body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, SdpErrc::kTooLarge);
}

TEST(SdpParse, LimitsAreConfigurable) {
  SdpLimits tight;
  tight.max_body_bytes = 10;
  EXPECT_FALSE(parse_sdp(kSippOffer, tight).ok());
  EXPECT_TRUE(parse_sdp(kSippOffer).ok());
}

TEST(SdpParse, Utf8SessionNameIsAccepted) {
  auto r = parse_sdp("v=0\ns=Liga\xc3\xa7\xc3\xa3o\nm=audio 4000 RTP/AVP 0\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().session_name, "Liga\xc3\xa7\xc3\xa3o");
}

TEST(SdpParse, ErrorNamesTheLine) {
  auto r = parse_sdp("v=0\ns=-\nm=audio 99999 RTP/AVP 0\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("line 3"), std::string::npos) << r.error().message;
}

TEST(SdpParse, MirrorDirection) {
  EXPECT_EQ(mirror(MediaDirection::kSendOnly), MediaDirection::kRecvOnly);
  EXPECT_EQ(mirror(MediaDirection::kRecvOnly), MediaDirection::kSendOnly);
  EXPECT_EQ(mirror(MediaDirection::kInactive), MediaDirection::kInactive);
  EXPECT_EQ(mirror(MediaDirection::kSendRecv), MediaDirection::kSendRecv);
}

}  // namespace
}  // namespace atende::sip
