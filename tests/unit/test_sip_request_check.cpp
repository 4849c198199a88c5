// Request sanity checks: URIs that sofia must never be handed (the Contact that crashed it
// 32 s later), and the status each malformed request is answered with.
#include <gtest/gtest.h>

#include <string>

#include "sip/request_check.h"

namespace atende::sip {
namespace {

class GoodUri : public ::testing::TestWithParam<std::string> {};
TEST_P(GoodUri, Accepted) {
  UriCheck r = check_sip_uri(GetParam());
  EXPECT_TRUE(r.ok) << GetParam() << ": " << r.error;
}
INSTANTIATE_TEST_SUITE_P(
    Uris, GoodUri,
    ::testing::Values("sip:ivr@127.0.0.1:5060", "sip:127.0.0.1", "sips:alice@example.com",
                      "SIP:Alice@Example.COM", "sip:[::1]:5080;transport=tcp",
                      "sip:bob@[2001:db8::1]", "sip:alice:secret@host.example.org",
                      "sip:+15551234567;phone-context=example.com@gw.example.com;user=phone",
                      "sip:a%20b@host", "sip:host.example.com.",
                      "sip:host?subject=project%20x&priority=urgent",
                      "sip:u@h;lr;maddr=239.255.255.1;ttl=15", "sip:u@h:65535",
                      "sip:a-b_c.d!e~f*g'h(i)j@x-1.example.com",
                      "sip:u@h;ob;+sip.instance=urn:uuid:00000000-0000-1000-8000-000A95A0E128",
                      "sip:u@h?to=a&body="));

struct BadUri {
  const char* name;
  std::string uri;
  bool unsupported_scheme = false;
};
class BadUriTest : public ::testing::TestWithParam<BadUri> {};
TEST_P(BadUriTest, Refused) {
  UriCheck r = check_sip_uri(GetParam().uri);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(r.unsupported_scheme, GetParam().unsupported_scheme) << r.error;
}
INSTANTIATE_TEST_SUITE_P(
    Uris, BadUriTest,
    ::testing::Values(
        BadUri{"empty", ""}, BadUri{"no_scheme", "alice@example.com"},
        BadUri{"non_ascii_scheme", "s\xc3\xadp:alice@example.com"},
        BadUri{"non_ascii_scheme_byte", "si\x80:alice@example.com"},
        BadUri{"sipx", "sipx:alice@example.com", true}, BadUri{"tel", "tel:+15551234567", true},
        BadUri{"http", "http://example.com", true}, BadUri{"empty_scheme", ":a@b"},
        BadUri{"empty_host", "sip:"}, BadUri{"empty_host_with_user", "sip:alice@"},
        BadUri{"empty_user", "sip:@host"}, BadUri{"empty_host_port", "sip::5060"},
        BadUri{"too_long", "sip:" + std::string(2000, 'a') + "@host"},
        BadUri{"long_host", "sip:u@" + std::string(300, 'a') + ".com"},
        BadUri{"long_label", "sip:u@" + std::string(64, 'a') + ".com"},
        BadUri{"port_0", "sip:u@h:0"}, BadUri{"port_65536", "sip:u@h:65536"},
        BadUri{"port_word", "sip:u@h:abc"}, BadUri{"port_empty", "sip:u@h:"},
        BadUri{"port_long", "sip:u@h:000005060"}, BadUri{"ipv4_999", "sip:u@1.2.3.999"},
        BadUri{"ipv4_five_parts", "sip:u@1.2.3.4.5"}, BadUri{"all_digits", "sip:u@123"},
        BadUri{"digit_toplabel", "sip:u@host.1com"}, BadUri{"dash_label", "sip:u@-bad.com"},
        BadUri{"empty_label", "sip:u@host..com"}, BadUri{"underscore_host", "sip:u@a_b.com"},
        BadUri{"space", "sip:a b@host"}, BadUri{"tab", "sip:a\tb@host"},
        BadUri{"nul", std::string("sip:a\0b@host", 12)}, BadUri{"crlf", "sip:a@host\r\nVia: x"},
        BadUri{"unterminated_v6", "sip:u@[::1"}, BadUri{"bad_v6", "sip:u@[zz::1]"},
        BadUri{"v4_in_brackets", "sip:u@[1.2.3.4]"}, BadUri{"bare_v6", "sip:u@::1"},
        BadUri{"short_escape", "sip:a%2@host"}, BadUri{"bad_escape", "sip:a%zz@host"},
        BadUri{"escaped_nul", "sip:a%00@host"}, BadUri{"two_at", "sip:a@b@c"},
        BadUri{"angle_in_user", "sip:a<b@host"}, BadUri{"quote_in_user", "sip:a\"b@host"},
        BadUri{"empty_param", "sip:u@h;"}, BadUri{"param_bad_char", "sip:u@h;a=b\"c"},
        BadUri{"header_no_equals", "sip:u@h?x"}, BadUri{"junk_after_v6", "sip:u@[::1]x"},
        BadUri{"junk_after_port", "sip:u@h:5060x"}, BadUri{"del", "sip:u@h\x7f"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CheckContact, AcceptedForms) {
  for (std::string_view c :
       {"<sip:alice@192.0.2.4>", "\"Alice\" <sip:alice@192.0.2.4:5060;transport=udp>;expires=60",
        "Alice Smith <sip:alice@example.com>", "sip:alice@example.com;expires=3600",
        "sip:alice@example.com", "  <sips:bob@[2001:db8::2]>  ", "\"A<b\\\"c\" <sip:a@h>",
        "<sip:u@h;ob>;+sip.instance=\"<urn:uuid:1234>\";reg-id=1",
        "\"Jo\xc3\xa3o\" <sip:joao@h>"}) {
    UriCheck r = check_contact(c);
    EXPECT_TRUE(r.ok) << c << ": " << r.error;
  }
}

TEST(CheckContact, RefusedForms) {
  for (std::string_view c :
       {"<tel:+15551234567>", "tel:+15551234567", "<s\xc3\xadp:alice@192.0.2.4>", "<sip:a@h",
        "\"unterminated <sip:a@h>", "\"name\" sip:a@h", "<sip:a@h> junk", "<sip:>", "*", "<*>", "",
        "<>", "<sip:a@h>;p=\xc3\xa9", "<sip:a@h>\r\nX: y", "bad\"name <sip:a@h>"}) {
    EXPECT_FALSE(check_contact(c).ok) << c;
    EXPECT_FALSE(check_contact(c).unsupported_scheme) << c;
  }
  EXPECT_FALSE(check_contact("<sip:a@h>;x=" + std::string(3000, 'y')).ok);
}

RequestSummary good_invite() {
  RequestSummary r;
  r.method = "INVITE";
  r.request_uri = "sip:ivr@127.0.0.1:5060";
  r.contacts = {"<sip:caller@127.0.0.1:5070>"};
  r.via_count = 1;
  r.cseq_number = 1;
  r.cseq_method = "INVITE";
  r.content_length = 200;
  r.body_size = 200;
  r.max_forwards = 70;
  return r;
}

void expect_status(const RequestSummary& r, int status) {
  RequestVerdict v = check_request(r);
  EXPECT_EQ(v.status, status) << v.reason << " / " << v.detail;
  if (status != 0) {
    EXPECT_FALSE(v.reason.empty());
    EXPECT_FALSE(v.ok());
  } else {
    EXPECT_TRUE(v.ok());
  }
}

TEST(CheckRequest, GoodInvite) { expect_status(good_invite(), 0); }

TEST(CheckRequest, AbsentOptionalHeaders) {
  RequestSummary r = good_invite();
  r.content_length = -1;
  r.body_size = 0;
  r.max_forwards = -1;
  expect_status(r, 0);
}

TEST(CheckRequest, RequestUri) {
  RequestSummary r = good_invite();
  r.request_uri = "tel:+15551234567";
  expect_status(r, 416);
  EXPECT_EQ(check_request(r).reason, "Unsupported URI Scheme");
  r.request_uri = "sip:";
  expect_status(r, 400);
  r.request_uri = "s\xc3\xadp:ivr@127.0.0.1";
  expect_status(r, 400);
}

TEST(CheckRequest, ContactThatCrashedSofia) {
  RequestSummary r = good_invite();
  r.contacts = {"<s\xc3\xadp:caller@127.0.0.1:5070>"};
  expect_status(r, 400);
  EXPECT_EQ(check_request(r).reason, "Invalid Contact");
  r.contacts = {"<tel:+15551234567>"};
  expect_status(r, 400);
  r.contacts = {"<sip:@127.0.0.1>"};
  expect_status(r, 400);
}

TEST(CheckRequest, InviteNeedsExactlyOneContact) {
  RequestSummary r = good_invite();
  r.contacts = {};
  expect_status(r, 400);
  EXPECT_EQ(check_request(r).reason, "Missing Contact");
  r.contacts = {"<sip:a@h>", "<sip:b@h>"};
  expect_status(r, 400);
  r.contacts = {"*"};
  expect_status(r, 400);
}

TEST(CheckRequest, OtherMethodsMayOmitContactButNotSendABadOne) {
  RequestSummary bye = good_invite();
  bye.method = bye.cseq_method = "BYE";
  bye.contacts = {};
  bye.content_length = 0;
  bye.body_size = 0;
  expect_status(bye, 0);
  bye.contacts = {"<sip:a@h:0>"};
  expect_status(bye, 400);
}

TEST(CheckRequest, RegisterWildcard) {
  RequestSummary reg = good_invite();
  reg.method = reg.cseq_method = "REGISTER";
  reg.contacts = {" * "};
  expect_status(reg, 0);
  reg.contacts = {"*", "<sip:a@h>"};
  expect_status(reg, 400);
  reg.contacts = std::vector<std::string_view>(9, "<sip:a@h>");
  expect_status(reg, 400);
}

TEST(CheckRequest, Via) {
  RequestSummary r = good_invite();
  r.via_count = 0;
  expect_status(r, 400);
  r.via_count = 33;
  expect_status(r, 483);
  r.via_count = 32;
  expect_status(r, 0);
}

TEST(CheckRequest, MaxForwards) {
  RequestSummary r = good_invite();
  r.max_forwards = 0;
  expect_status(r, 483);
  EXPECT_EQ(check_request(r).reason, "Too Many Hops");
  r.max_forwards = 256;
  expect_status(r, 400);
  r.max_forwards = -5;
  expect_status(r, 400);
  RequestSummary options = good_invite();
  options.method = options.cseq_method = "OPTIONS";
  options.max_forwards = 0;
  options.contacts = {};
  expect_status(options, 0);
}

TEST(CheckRequest, CSeq) {
  RequestSummary r = good_invite();
  r.cseq_number = 1ULL << 31;
  expect_status(r, 400);
  r.cseq_number = (1ULL << 31) - 1;
  expect_status(r, 0);
  r.cseq_method = "ACK";
  expect_status(r, 400);
  r.cseq_method = "invite";  // methods are case-sensitive
  expect_status(r, 400);
}

TEST(CheckRequest, Method) {
  RequestSummary r = good_invite();
  r.method = r.cseq_method = "";
  expect_status(r, 400);
  r.method = r.cseq_method = "INV ITE";
  expect_status(r, 400);
  std::string long_method(40, 'X');
  r.method = r.cseq_method = long_method;
  expect_status(r, 400);
}

TEST(CheckRequest, BodySizes) {
  RequestSummary r = good_invite();
  r.body_size = 20000;
  r.content_length = 20000;
  expect_status(r, 413);
  r.body_size = 100;
  r.content_length = 1000000000;
  expect_status(r, 413);
  r.content_length = 150;
  expect_status(r, 400);
  r.content_length = -2;
  expect_status(r, 400);
  RequestLimits big;
  big.max_body_bytes = 32 * 1024;
  r.body_size = 20000;
  r.content_length = 20000;
  EXPECT_TRUE(check_request(r, big).ok());
}

}  // namespace
}  // namespace atende::sip
