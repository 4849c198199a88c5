// Answer and offer builder tests: exact text for the common cases, and round trips through
// our own parser and negotiator.
#include <gtest/gtest.h>

#include <string>

#include "sip/sdp.h"
#include "sip/sdp_build.h"
#include "sip/sdp_negotiate.h"

namespace atende::sip {
namespace {

LocalSdp local_v4() {
  LocalSdp l;
  l.address = "192.0.2.10";
  l.rtp_port = 20000;
  l.session_id = 42;
  l.session_version = 1;
  return l;
}

NegotiatedAudio negotiate_ok(std::string_view offer) {
  auto parsed = parse_sdp(offer);
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  if (!parsed.ok()) return {};
  auto codecs = default_codecs();
  auto n = negotiate_offer(parsed.value(), codecs);
  EXPECT_TRUE(n.ok()) << n.error().message;
  return n.ok() ? n.value() : NegotiatedAudio{};
}

std::string build_ok(const NegotiatedAudio& n, const LocalSdp& l,
                     std::optional<MediaDirection> d = std::nullopt) {
  auto r = build_answer(n, l, d);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? r.value() : std::string();
}

constexpr std::string_view kBaresipOffer =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 10000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\na=ptime:20\r\n";

TEST(SdpAnswer, ExactTextForTypicalOffer) {
  EXPECT_EQ(build_ok(negotiate_ok(kBaresipOffer), local_v4()),
            "v=0\r\n"
            "o=atende 42 1 IN IP4 192.0.2.10\r\n"
            "s=atende\r\n"
            "c=IN IP4 192.0.2.10\r\n"
            "t=0 0\r\n"
            "m=audio 20000 RTP/AVP 0 101\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
            "a=fmtp:101 0-16\r\n"
            "a=ptime:20\r\n"
            "a=sendrecv\r\n");
}

TEST(SdpAnswer, NoTelephoneEventAndDynamicPt) {
  auto n = negotiate_ok(
      "v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP 100\r\n"
      "a=rtpmap:100 PCMA/8000\r\n");
  LocalSdp l = local_v4();
  l.session_version = 7;
  EXPECT_EQ(build_ok(n, l),
            "v=0\r\n"
            "o=atende 42 7 IN IP4 192.0.2.10\r\n"
            "s=atende\r\n"
            "c=IN IP4 192.0.2.10\r\n"
            "t=0 0\r\n"
            "m=audio 20000 RTP/AVP 100\r\n"
            "a=rtpmap:100 PCMA/8000\r\n"
            "a=ptime:20\r\n"
            "a=sendrecv\r\n");
}

TEST(SdpAnswer, RejectedLinesKeepPositionWithPortZero) {
  auto n = negotiate_ok(
      "v=0\r\nc=IN IP4 10.0.0.9\r\nm=video 5000 RTP/AVP 96 97\r\nm=audio 4000 RTP/SAVP 0\r\n"
      "m=audio 4002 RTP/AVP 9\r\nm=message 2855 TCP/MSRP *\r\n");
  std::string answer = build_ok(n, local_v4());
  EXPECT_NE(answer.find("t=0 0\r\n"
                        "m=video 0 RTP/AVP 96\r\n"
                        "m=audio 0 RTP/SAVP 0\r\n"
                        "m=audio 20000 RTP/AVP 9\r\n"
                        "a=rtpmap:9 G722/8000\r\n"
                        "a=ptime:20\r\n"
                        "a=sendrecv\r\n"
                        "m=message 0 TCP/MSRP *\r\n"),
            std::string::npos)
      << answer;
  // And it is an SDP we can read back with the same number of m= lines.
  auto back = parse_sdp(answer);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back.value().media.size(), 4u);
}

TEST(SdpAnswer, MirrorsHold) {
  std::string base = "v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP 0\r\n";
  EXPECT_NE(build_ok(negotiate_ok(base + "a=sendonly\r\n"), local_v4()).find("a=recvonly\r\n"),
            std::string::npos);
  EXPECT_NE(build_ok(negotiate_ok(base + "a=inactive\r\n"), local_v4()).find("a=inactive\r\n"),
            std::string::npos);
  EXPECT_NE(build_ok(negotiate_ok(base + "a=recvonly\r\n"), local_v4()).find("a=sendonly\r\n"),
            std::string::npos);
  std::string zero = "v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n";
  EXPECT_NE(build_ok(negotiate_ok(zero), local_v4()).find("a=recvonly\r\n"), std::string::npos);
}

TEST(SdpAnswer, ExplicitDirectionOverridesMirror) {
  std::string a = build_ok(negotiate_ok(kBaresipOffer), local_v4(), MediaDirection::kSendOnly);
  EXPECT_NE(a.find("a=sendonly\r\n"), std::string::npos);
  EXPECT_EQ(a.find("a=sendrecv"), std::string::npos);
}

TEST(SdpAnswer, Ipv6Local) {
  LocalSdp l = local_v4();
  l.address = "2001:db8::10";
  std::string a = build_ok(negotiate_ok(kBaresipOffer), l);
  EXPECT_NE(a.find("o=atende 42 1 IN IP6 2001:db8::10\r\n"), std::string::npos) << a;
  EXPECT_NE(a.find("c=IN IP6 2001:db8::10\r\n"), std::string::npos) << a;
}

TEST(SdpAnswer, BadLocalParameters) {
  NegotiatedAudio n = negotiate_ok(kBaresipOffer);
  LocalSdp host = local_v4();
  host.address = "atende.example.com";
  LocalSdp port = local_v4();
  port.rtp_port = 0;
  LocalSdp injected = local_v4();
  injected.session_name = "x\r\nm=audio 1 RTP/AVP 0";
  for (const LocalSdp& l : {host, port, injected}) {
    auto r = build_answer(n, l);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, SdpErrc::kBadLocal);
  }
  NegotiatedAudio broken = n;
  broken.media_index = 5;
  EXPECT_FALSE(build_answer(broken, local_v4()).ok());
}

TEST(SdpOffer, ExactText) {
  auto codecs = default_codecs();
  auto r = build_offer(local_v4(), codecs);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(),
            "v=0\r\n"
            "o=atende 42 1 IN IP4 192.0.2.10\r\n"
            "s=atende\r\n"
            "c=IN IP4 192.0.2.10\r\n"
            "t=0 0\r\n"
            "m=audio 20000 RTP/AVP 0 8 9 101\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:9 G722/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
            "a=fmtp:101 0-16\r\n"
            "a=ptime:20\r\n"
            "a=sendrecv\r\n");
  EXPECT_EQ(offered_payload_type(codecs, 3), 101);
  EXPECT_EQ(offered_payload_type(codecs, 9), -1);
}

TEST(SdpOffer, HoldOfferAndBadInput) {
  auto codecs = default_codecs();
  auto hold = build_offer(local_v4(), codecs, MediaDirection::kSendOnly);
  ASSERT_TRUE(hold.ok());
  EXPECT_NE(hold.value().find("a=sendonly\r\n"), std::string::npos);
  std::vector<CodecSpec> none;
  EXPECT_FALSE(build_offer(local_v4(), none).ok());
  std::vector<CodecSpec> bad = {{"PC MU", 0, 8000}};
  EXPECT_FALSE(build_offer(local_v4(), bad).ok());
}

TEST(SdpRoundTrip, OurOfferNegotiatesWithItself) {
  auto codecs = default_codecs();
  auto offer = build_offer(local_v4(), codecs);
  ASSERT_TRUE(offer.ok());
  auto parsed = parse_sdp(offer.value());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  auto n = negotiate_offer(parsed.value(), codecs);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n.value().codec_name, "PCMU");
  EXPECT_EQ(n.value().telephone_event_pt, 101);
  EXPECT_EQ(n.value().remote.address, "192.0.2.10");
  EXPECT_EQ(n.value().remote_port, 20000);

  // Answer it as a peer would, then read that answer as the offerer.
  LocalSdp peer;
  peer.address = "198.51.100.3";
  peer.rtp_port = 30000;
  auto answer = build_answer(n.value(), peer);
  ASSERT_TRUE(answer.ok());
  auto answer_parsed = parse_sdp(answer.value());
  ASSERT_TRUE(answer_parsed.ok());
  auto ours = negotiate_answer(answer_parsed.value(), codecs);
  ASSERT_TRUE(ours.ok()) << ours.error().message;
  EXPECT_EQ(ours.value().codec_name, "PCMU");
  EXPECT_EQ(ours.value().payload_type, 0);
  EXPECT_EQ(ours.value().telephone_event_pt, 101);
  EXPECT_EQ(ours.value().remote.address, "198.51.100.3");
  EXPECT_EQ(ours.value().remote_port, 30000);
}

}  // namespace
}  // namespace atende::sip
