// precheck_request() on requests parsed by sofia-sip's own message parser (as nta hands them
// to the server): the INVITEs that crashed Debian's sofia 32 s after a 200 OK (ARCHITECTURE.md,
// safety note) get a 4xx up front, and so do those the fuzzer and nta.c showed would reach
// the same failure (a non-SIP Record-Route: our BYE is sent there, not to the Contact).
#include <gtest/gtest.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include <optional>
#include <string>

#include "sip/sip_precheck.h"

namespace atende::sip {
namespace {

const std::string kSdp =
    "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0\r\n";

std::string invite(const std::string& contact, const std::string& extra = "",
                   const std::string& body = kSdp, const std::string& ruri = "sip:echo@192.0.2.1") {
  return "INVITE " + ruri +
         " SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK74bf9;rport\r\n"
         "Max-Forwards: 70\r\n"
         "From: <sip:alice@example.com>;tag=1928301774\r\n"
         "To: <sip:echo@example.com>\r\n"
         "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
         "CSeq: 1 INVITE\r\n"
         "Contact: " +
         contact + "\r\n" + extra +
         "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// The verdict for one datagram: 0 when accepted, else the status.
int verdict(const std::string& wire) {
  msg_t* msg = msg_make(sip_default_mclass(), MSG_DO_CANONIC, wire.data(),
                        static_cast<ssize_t>(wire.size()));
  if (!msg) return -1;
  const std::optional<Rejection> r = precheck_request(sip_object(msg));
  msg_destroy(msg);
  return r ? r->status : 0;
}

TEST(SipPrecheck, AcceptsOrdinaryInvites) {
  EXPECT_EQ(verdict(invite("<sip:alice@192.0.2.10:5062>")), 0);
  EXPECT_EQ(verdict(invite("\"Alice\" <sips:alice@client.example.com;transport=tls>;expires=60")),
            0);
  EXPECT_EQ(verdict(invite("<sip:alice@[2001:db8::10]:5062>")), 0);
  EXPECT_EQ(verdict(invite("<sip:alice@192.0.2.10>",
                           "Record-Route: <sip:p1.example.com;lr>, <sip:192.0.2.7:5070;lr>\r\n")),
            0);
}

TEST(SipPrecheck, RefusesContactsSofiaCannotSendTo) {
  EXPECT_EQ(verdict(invite("<\xffsip:x@1.2.3.4>")), 400);  // the original crash
  EXPECT_EQ(verdict(invite("<http://example.com/>")), 400);
  EXPECT_EQ(verdict(invite("<tel:+15551234567>")), 400);
  EXPECT_EQ(verdict(invite("<sip:>")), 400);
  EXPECT_EQ(verdict(invite("garbage")), 400);
  EXPECT_EQ(verdict(invite("*")), 400);
  EXPECT_EQ(verdict(invite("<sip:a@192.0.2.1>, <sip:b@192.0.2.2>")), 400);
}

// Found while fixing the fuzz target's invariant (docs/fuzzing.md, finding 1): nta sends an
// in-dialog request to the first Record-Route entry, so a non-SIP one fails like a bad Contact.
TEST(SipPrecheck, RefusesRecordRoutesSofiaCannotSendTo) {
  const std::string contact = "<sip:alice@192.0.2.10:5062>";
  EXPECT_EQ(verdict(invite(contact, "Record-Route: <http://example.com/>\r\n")), 400);
  EXPECT_EQ(verdict(invite(contact, "Record-Route: <sip:p1.example.com;lr>, <tel:+1555>\r\n")),
            400);
  EXPECT_EQ(verdict(invite(contact, "Record-Route: <sip:>\r\n")), 400);
  EXPECT_EQ(verdict(invite(contact,
                           "Record-Route: <sip:p1.example.com;lr>\r\n"
                           "Record-Route: <sip:a\xff@p2.example.com>\r\n")),
            400);
}

TEST(SipPrecheck, RefusesMalformedRequests) {
  const std::string ok = invite("<sip:alice@192.0.2.10>");
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = ok;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  EXPECT_EQ(verdict(replaced("CSeq: 1 INVITE", "CSeq: 1 BYE")), 400);
  EXPECT_EQ(verdict(replaced("CSeq: 1 INVITE", "CSeq: 99999999999999999999 INVITE")), 400);
  EXPECT_EQ(verdict(replaced("Call-ID: a84b4c76e66710@pc33.example.com\r\n", "")), 400);
  EXPECT_EQ(verdict(replaced("INVITE sip:echo@", "INVITE tel:echo@")), 416);
  EXPECT_EQ(verdict(replaced("Max-Forwards: 70", "Max-Forwards: 0")), 483);
  EXPECT_EQ(verdict(replaced("application/sdp", "text/html")), 415);
  EXPECT_EQ(verdict(replaced("Content-Length: ", "Content-Length: 9")),
            400);  // beyond the datagram
}

}  // namespace
}  // namespace atende::sip
