// What a browser needs of ASP (docs/asp.md "Connecting", "transcript"): the token in the
// subprotocol list, and the transcript message (written, parsed, carried in a slot).
#include <gtest/gtest.h>

#include "asp/asp_credentials.h"
#include "asp/channel.h"
#include "asp/message.h"

namespace atende::asp {
namespace {

TEST(AspCredentials, Base64UrlWithoutPadding) {
  std::string out;
  ASSERT_TRUE(decode_base64url("YXNwLXRva2VuLTAxMjM0NTY3ODlhYmNkZWY", out));
  EXPECT_EQ(out, "asp-token-0123456789abcdef");
  ASSERT_TRUE(decode_base64url("-_8", out));  // the URL alphabet: 0xfb 0xff
  EXPECT_EQ(out, std::string("\xfb\xff"));
  ASSERT_TRUE(decode_base64url("YQ==", out));  // padding tolerated
  EXPECT_EQ(out, "a");
  EXPECT_FALSE(decode_base64url("YQ+/", out));  // the other alphabet
  EXPECT_FALSE(decode_base64url("Y", out));     // no whole byte
  EXPECT_FALSE(decode_base64url("a b", out));
}

TEST(AspCredentials, SubprotocolList) {
  EXPECT_FALSE(parse_subprotocols(nullptr).present);
  const std::string browser = "atende-asp, bearer.YXNwLXRva2VuLTAxMjM0NTY3ODlhYmNkZWY";
  const auto o = parse_subprotocols(&browser);
  EXPECT_TRUE(o.present && o.asp && !o.malformed);
  ASSERT_TRUE(o.bearer);
  EXPECT_EQ(*o.bearer, "asp-token-0123456789abcdef");

  const std::string only_ours = "atende-asp";
  EXPECT_TRUE(parse_subprotocols(&only_ours).asp);
  EXPECT_FALSE(parse_subprotocols(&only_ours).bearer);

  const std::string other = "chat,superchat";
  EXPECT_FALSE(parse_subprotocols(&other).asp);

  const std::string two_tokens = "atende-asp, bearer.YQ, bearer.Yg";
  EXPECT_TRUE(parse_subprotocols(&two_tokens).malformed);
  const std::string bad = "atende-asp, bearer.***";
  EXPECT_TRUE(parse_subprotocols(&bad).malformed);
  const std::string empty = "atende-asp, bearer.";
  EXPECT_TRUE(parse_subprotocols(&empty).malformed);
  const std::string huge = "atende-asp, bearer." + std::string(5000, 'A');
  EXPECT_TRUE(parse_subprotocols(&huge).malformed);
}

TEST(AspTranscript, WrittenAndParsed) {
  const std::string j = transcript_json("caller", "sales");
  Message m;
  ASSERT_TRUE(parse_message(j, m).ok()) << j;
  EXPECT_EQ(m.type, Type::kTranscript);
  EXPECT_EQ(m.role, "caller");
  EXPECT_EQ(m.text, "sales");
  EXPECT_TRUE(m.final);

  // Longer than the other strings may be, up to kMaxTranscriptBytes.
  const std::string long_text(600, 'a');
  ASSERT_TRUE(parse_message(transcript_json("agent", long_text), m).ok());
  EXPECT_EQ(m.text.size(), 600u);
  EXPECT_FALSE(
      parse_message(
          R"({"type":"transcript","role":"agent","text":")" + std::string(700, 'a') + R"("})", m)
          .ok());
  EXPECT_FALSE(parse_message(R"({"type":"transcript","role":"robot","text":"x"})", m).ok());
  EXPECT_FALSE(parse_message(R"({"type":"transcript","role":"agent"})", m).ok());
  EXPECT_FALSE(parse_message(R"({"type":"transcript","role":"agent","text":1})", m).ok());
}

TEST(AspTranscript, CutOnAUtf8Boundary) {
  std::string text(639, 'a');
  text += "\xc3\xa7";  // "ç" straddles byte 640
  const std::string j = transcript_json("agent", text);
  Message m;
  ASSERT_TRUE(parse_message(j, m).ok()) << j;
  EXPECT_EQ(m.text, std::string(639, 'a'));
  EXPECT_EQ(utf8_prefix("abc", 10), "abc");
}

TEST(AspTranscript, RidesInAnOutSlot) {
  OutSlot slot;
  set_slot_text(slot, "Você escolheu vendas.");
  EXPECT_EQ(slot_text_view(slot), "Você escolheu vendas.");
  set_slot_text(slot, std::string(1000, 'x'));
  EXPECT_EQ(slot_text_view(slot).size(), sizeof(slot.pcm));
}

TEST(AspTranscript, NegotiatedOnlyWhenAsked) {
  AudioFormat audio;
  EXPECT_EQ(session_started_json("s", audio, 500).find("transcripts"), std::string::npos);
  EXPECT_NE(session_started_json("s", audio, 500, true).find("\"transcripts\""), std::string::npos);
  EXPECT_NE(capabilities_json().find("\"transcripts\""), std::string::npos);
}

}  // namespace
}  // namespace atende::asp
