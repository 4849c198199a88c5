// Negotiation tests: offers as real softphones and PBXs send them, and the answer reading
// side for our own outbound offers.
#include <gtest/gtest.h>

#include <string>

#include "sip/sdp.h"
#include "sip/sdp_negotiate.h"

namespace atende::sip {
namespace {

SessionDescription parse_ok(std::string_view body) {
  auto r = parse_sdp(body);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? r.value() : SessionDescription{};
}

SdpResult<NegotiatedAudio> answer_to(std::string_view offer) {
  auto codecs = default_codecs();
  return negotiate_offer(parse_ok(offer), codecs);
}

// One audio line from 10.0.0.9:4000 with the given formats and extra lines.
std::string offer_with(std::string_view formats, std::string_view extra = "") {
  return "v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n"
         "m=audio 4000 RTP/AVP " +
         std::string(formats) + "\r\n" + std::string(extra);
}

TEST(SdpNegotiate, BaresipOffer) {
  auto r = answer_to(
      "v=0\r\no=- 1735567012 3227381004 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
      "t=0 0\r\nm=audio 10000 RTP/AVP 0 8 101\r\nb=AS:80\r\na=rtpmap:0 PCMU/8000\r\n"
      "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
      "a=sendrecv\r\na=label:1\r\na=ssrc:123 cname:x\r\na=rtcp-rsize\r\na=ptime:20\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const NegotiatedAudio& n = r.value();
  EXPECT_EQ(n.codec_name, "PCMU");
  EXPECT_EQ(n.payload_type, 0);
  EXPECT_EQ(n.clock_rate, 8000);
  EXPECT_EQ(n.telephone_event_pt, 101);
  EXPECT_EQ(n.remote.address, "127.0.0.1");
  EXPECT_EQ(n.remote_port, 10000);
  EXPECT_EQ(n.remote_direction, MediaDirection::kSendRecv);
  EXPECT_EQ(n.ptime_ms, 20);
  EXPECT_EQ(n.media_index, 0u);
  EXPECT_EQ(n.media_lines.size(), 1u);
  EXPECT_TRUE(n.we_may_send());
  EXPECT_TRUE(n.remote_may_send());
}

TEST(SdpNegotiate, SippOfferWithoutTelephoneEvent) {
  auto r = answer_to(offer_with("0", "a=rtpmap:0 PCMU/8000\r\n"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().codec_name, "PCMU");
  EXPECT_EQ(r.value().telephone_event_pt, -1);
  EXPECT_EQ(r.value().ptime_ms, 0);
}

TEST(SdpNegotiate, AsteriskOfferPrefersPcma) {
  auto r = answer_to(offer_with(
      "8 0 9 101",
      "a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:9 G722/8000\r\n"
      "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=maxptime:150\r\n"
      "a=sendrecv\r\n"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().codec_name, "PCMA");
  EXPECT_EQ(r.value().payload_type, 8);
  EXPECT_EQ(r.value().telephone_event_pt, 101);
}

TEST(SdpNegotiate, PcmaOnlyWithoutRtpmap) {
  auto r = answer_to(offer_with("8"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().codec_name, "PCMA");
  EXPECT_EQ(r.value().payload_type, 8);
}

TEST(SdpNegotiate, G722FirstInOfferWins) {
  auto r = answer_to(offer_with("9 0 8"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().codec_name, "G722");
  EXPECT_EQ(r.value().payload_type, 9);
  EXPECT_EQ(r.value().clock_rate, 8000);
}

TEST(SdpNegotiate, OffererOrderNotOurs) {
  // Our list says PCMU first, but the offerer ranks unknown codecs, then PCMA, then PCMU.
  auto r = answer_to(offer_with("18 3 8 0", "a=rtpmap:18 G729/8000\r\n"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().codec_name, "PCMA");
}

TEST(SdpNegotiate, DynamicPayloadTypeNamedPcmu) {
  auto r = answer_to(offer_with("100 101",
                                "a=rtpmap:100 pcmu/8000\r\n"
                                "a=rtpmap:101 TELEPHONE-EVENT/8000\r\n"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().codec_name, "PCMU");
  EXPECT_EQ(r.value().payload_type, 100);
  EXPECT_EQ(r.value().telephone_event_pt, 101);
}

TEST(SdpNegotiate, DynamicTypeWithoutRtpmapIsUnusable) {
  auto r = answer_to(offer_with("100"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, SdpErrc::kNotAcceptable);
}

TEST(SdpNegotiate, StaticTypeRemappedByRtpmapFollowsTheMap) {
  // PT 0 declared as PCMA: the rtpmap is what the peer will actually send.
  auto r = answer_to(offer_with("0", "a=rtpmap:0 PCMA/8000\r\n"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().codec_name, "PCMA");
  EXPECT_EQ(r.value().payload_type, 0);
}

TEST(SdpNegotiate, WrongRateOrStereoDoesNotMatch) {
  EXPECT_FALSE(answer_to(offer_with("96", "a=rtpmap:96 PCMU/16000\r\n")).ok());
  EXPECT_FALSE(answer_to(offer_with("96", "a=rtpmap:96 PCMU/8000/2\r\n")).ok());
}

TEST(SdpNegotiate, TelephoneEventMustMatchCodecClock) {
  auto r = answer_to(offer_with("0 101 100",
                                "a=rtpmap:101 telephone-event/48000\r\n"
                                "a=rtpmap:100 telephone-event/8000\r\n"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().telephone_event_pt, 100);
  auto only48k = answer_to(offer_with("0 101", "a=rtpmap:101 telephone-event/48000\r\n"));
  ASSERT_TRUE(only48k.ok());
  EXPECT_EQ(only48k.value().telephone_event_pt, -1);
}

TEST(SdpNegotiate, TelephoneEventAloneIsNoCodec) {
  auto r = answer_to(offer_with("101", "a=rtpmap:101 telephone-event/8000\r\n"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, SdpErrc::kNotAcceptable);
}

TEST(SdpNegotiate, NoCommonCodecIs488) {
  auto r =
      answer_to(offer_with("96 18 3", "a=rtpmap:96 opus/48000/2\r\na=rtpmap:18 G729/8000\r\n"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, SdpErrc::kNotAcceptable);
  EXPECT_EQ(r.error().message, "no common codec");
}

TEST(SdpNegotiate, SrtpOnlyIsUnusableWhenSrtpIsOff) {
  auto r = answer_to(
      "v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/SAVP 0\r\n"
      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, SdpErrc::kNotAcceptable);
  EXPECT_EQ(r.error().message, "RTP/SAVP offered but SRTP is off here");
}

TEST(SdpNegotiate, NoAudioAtAll) {
  auto r = answer_to("v=0\r\nc=IN IP4 10.0.0.9\r\nm=video 4000 RTP/AVP 96\r\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, SdpErrc::kNotAcceptable);
  auto empty = answer_to("v=0\r\nc=IN IP4 10.0.0.9\r\n");
  ASSERT_FALSE(empty.ok());
}

TEST(SdpNegotiate, DisabledAudioLineIsSkipped) {
  auto r = answer_to(
      "v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 0 RTP/AVP 0\r\n"
      "m=audio 4002 RTP/AVP 8\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().media_index, 1u);
  EXPECT_EQ(r.value().remote_port, 4002);
}

TEST(SdpNegotiate, VideoThenAudio) {
  auto r = answer_to(
      "v=0\r\nc=IN IP4 10.0.0.9\r\nm=video 5000 RTP/AVP 96\r\n"
      "a=rtpmap:96 VP8/90000\r\nm=audio 4000 RTP/AVP 0\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const NegotiatedAudio& n = r.value();
  EXPECT_EQ(n.media_index, 1u);
  ASSERT_EQ(n.media_lines.size(), 2u);
  EXPECT_EQ(n.media_lines[0].media, "video");
  EXPECT_EQ(n.media_lines[0].proto, "RTP/AVP");
  EXPECT_EQ(n.media_lines[0].first_format, "96");
}

TEST(SdpNegotiate, SavpThenAvpAudioPicksAvp) {
  auto r = answer_to(
      "v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/SAVP 0\r\n"
      "m=audio 4002 RTP/AVP 0\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().media_index, 1u);
}

TEST(SdpNegotiate, Ipv6Remote) {
  auto r = answer_to("v=0\r\nc=IN IP6 2001:db8::5\r\nm=audio 4000 RTP/AVP 0\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().remote.family, AddressFamily::kIp6);
  EXPECT_EQ(r.value().remote.address, "2001:db8::5");
}

TEST(SdpNegotiate, MissingConnectionIsMalformed) {
  auto r = answer_to("v=0\r\nm=audio 4000 RTP/AVP 0\r\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, SdpErrc::kMalformed);
}

TEST(SdpNegotiate, MediaLevelConnectionIsUsed) {
  auto r = answer_to("v=0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.7\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().remote.address, "192.0.2.7");
}

struct HoldCase {
  const char* name;
  std::string session_lines;
  std::string media_lines;
  MediaDirection remote;
  bool unspecified;
};

class SdpHold : public ::testing::TestWithParam<HoldCase> {};

TEST_P(SdpHold, DirectionFolded) {
  const HoldCase& c = GetParam();
  auto r = answer_to("v=0\r\n" + c.session_lines + "m=audio 4000 RTP/AVP 0\r\n" + c.media_lines);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().remote_direction, c.remote);
  EXPECT_EQ(r.value().remote_address_unspecified, c.unspecified);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, SdpHold,
    ::testing::Values(
        HoldCase{"sendonly", "c=IN IP4 10.0.0.9\r\n", "a=sendonly\r\n", MediaDirection::kSendOnly,
                 false},
        HoldCase{"inactive", "c=IN IP4 10.0.0.9\r\n", "a=inactive\r\n", MediaDirection::kInactive,
                 false},
        HoldCase{"recvonly", "c=IN IP4 10.0.0.9\r\n", "a=recvonly\r\n", MediaDirection::kRecvOnly,
                 false},
        HoldCase{"session_sendonly", "c=IN IP4 10.0.0.9\r\na=sendonly\r\n", "",
                 MediaDirection::kSendOnly, false},
        HoldCase{"media_overrides_session", "c=IN IP4 10.0.0.9\r\na=sendonly\r\n", "a=sendrecv\r\n",
                 MediaDirection::kSendRecv, false},
        HoldCase{"zero_address", "c=IN IP4 0.0.0.0\r\n", "", MediaDirection::kSendOnly, true},
        HoldCase{"zero_address_recvonly", "c=IN IP4 0.0.0.0\r\n", "a=recvonly\r\n",
                 MediaDirection::kInactive, true},
        HoldCase{"zero_address_sendonly", "c=IN IP4 0.0.0.0\r\n", "a=sendonly\r\n",
                 MediaDirection::kSendOnly, true},
        HoldCase{"zero_ipv6", "c=IN IP6 ::\r\n", "", MediaDirection::kSendOnly, true}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SdpNegotiate, HoldMeansWeMustNotSend) {
  auto r = answer_to("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.value().we_may_send());
  EXPECT_TRUE(r.value().remote_may_send());
}

TEST(SdpNegotiate, OnlyCodecsWeSupport) {
  std::vector<CodecSpec> pcma_only = {{"PCMA", 8, 8000}};
  auto r = negotiate_offer(parse_ok(offer_with("0 8")), pcma_only);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().codec_name, "PCMA");
  // Without telephone-event in our list, we do not take the offer's.
  auto te = negotiate_offer(parse_ok(offer_with("8 101", "a=rtpmap:101 telephone-event/8000\r\n")),
                            pcma_only);
  ASSERT_TRUE(te.ok());
  EXPECT_EQ(te.value().telephone_event_pt, -1);
}

// --- Reading the answer to our offer (we offered 0 8 9 101) ---

TEST(SdpNegotiateAnswer, PeerChosePcma) {
  auto codecs = default_codecs();
  auto r = negotiate_answer(
      parse_ok(offer_with("8 101", "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n")), codecs);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().codec_name, "PCMA");
  EXPECT_EQ(r.value().telephone_event_pt, 101);
}

TEST(SdpNegotiateAnswer, CodecWeDidNotOfferIsRefused) {
  std::vector<CodecSpec> offered = {{"PCMU", 0, 8000}};
  auto r = negotiate_answer(parse_ok(offer_with("8")), offered);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, SdpErrc::kNotAcceptable);
}

TEST(SdpNegotiateAnswer, RejectedAudio) {
  auto codecs = default_codecs();
  auto r =
      negotiate_answer(parse_ok("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 0 RTP/AVP 0\r\n"), codecs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "answer rejected the audio stream");
}

TEST(SdpNegotiateAnswer, MediaCountMustMatchOffer) {
  auto codecs = default_codecs();
  auto r = negotiate_answer(parse_ok("v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP 0\r\n"
                                     "m=video 0 RTP/AVP 96\r\n"),
                            codecs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, SdpErrc::kMalformed);
}

}  // namespace
}  // namespace atende::sip
