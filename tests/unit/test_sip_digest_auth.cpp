// Digest authentication, server side: the RFC test vectors, header parsing, and the
// checker's promises: same answer for a wrong user and a wrong password, nonces that expire,
// are bound to the address they were given to, and cannot be replayed.
#include <gtest/gtest.h>

#include <regex>

#include "sip/digest_auth.h"

namespace atende::sip {
namespace {

using namespace std::chrono_literals;

TEST(DigestVectors, Rfc2617Md5WithQop) {
  // RFC 2617 section 3.5.
  EXPECT_EQ(digest_response(DigestAlgorithm::kMd5, "Mufasa", "testrealm@host.com", "Circle Of Life",
                            "GET", "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                            "00000001", "0a4f113b", "auth"),
            "6629fae49393a05397450978507c4ef1");
}

TEST(DigestVectors, Rfc7616Sha256AndMd5) {
  // RFC 7616 section 3.9.1.
  const char* nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  const char* cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  EXPECT_EQ(
      digest_response(DigestAlgorithm::kSha256, "Mufasa", "http-auth@example.org", "Circle of Life",
                      "GET", "/dir/index.html", nonce, "00000001", cnonce, "auth"),
      "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
  EXPECT_EQ(
      digest_response(DigestAlgorithm::kMd5, "Mufasa", "http-auth@example.org", "Circle of Life",
                      "GET", "/dir/index.html", nonce, "00000001", cnonce, "auth"),
      "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(DigestVectors, Rfc2069WithoutQop) {
  // Without qop: H(HA1:nonce:HA2). HA1/HA2 as in RFC 2617's example.
  const std::string ha1 =
      digest_hash(DigestAlgorithm::kMd5, "Mufasa:testrealm@host.com:Circle Of Life");
  EXPECT_EQ(ha1, "939e7578ed9e3c518a452acee763bce9");  // RFC 2617 3.5's HA1
  const std::string ha2 = digest_hash(DigestAlgorithm::kMd5, "GET:/dir/index.html");
  EXPECT_EQ(
      digest_response(DigestAlgorithm::kMd5, "Mufasa", "testrealm@host.com", "Circle Of Life",
                      "GET", "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "", "", ""),
      digest_hash(DigestAlgorithm::kMd5, ha1 + ":dcd98b7102dd2f0e8b11d0f600bfb0c093:" + ha2));
}

TEST(DigestParse, Rfc7616Header) {
  auto c = parse_digest_credentials(
      R"(Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html",
       algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001,
       cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth,
       response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
       opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "Mufasa");
  EXPECT_EQ(c->realm, "http-auth@example.org");
  EXPECT_EQ(c->algorithm, "SHA-256");
  EXPECT_EQ(c->nc, "00000001");
  EXPECT_EQ(c->qop, "auth");
  EXPECT_EQ(c->uri, "/dir/index.html");
  EXPECT_EQ(c->opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
}

TEST(DigestParse, QuotesEscapesAndJunk) {
  auto c = parse_digest_credentials(
      R"(Digest username="a\"b",realm="r",nonce=n,uri="sip:x",response="r")");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "a\"b");
  EXPECT_EQ(c->nonce, "n");
  for (const char* bad : {"", "Basic dXNlcjpwYXNz", "Digest", "Digest username=\"unclosed",
                          "Digest username", "Digest =x", "Digest a=b c=d"}) {
    EXPECT_FALSE(parse_digest_credentials(bad)) << bad;
  }
  EXPECT_FALSE(parse_digest_credentials("Digest username=\"" + std::string(5000, 'a') + "\""));
}

class DigestCheck : public ::testing::Test {
 protected:
  IpAddress src = *parse_ip("192.0.2.10");
  IpAddress other = *parse_ip("192.0.2.11");
  MonoTime t0 = MonoClock::now() + 1s;  // after the authenticator's epoch
  DigestAuthenticator auth{
      "atende", {{"alice", "wonderland"}, {"bob", "builder"}}, 300s, "fixed-secret", 4};

  std::string nonce_from(const std::string& challenge) {
    std::smatch m;
    std::regex re("nonce=\"([^\"]+)\"");
    EXPECT_TRUE(std::regex_search(challenge, m, re)) << challenge;
    return m[1];
  }

  DigestCredentials answer(const std::string& nonce, const std::string& user,
                           const std::string& password, const char* nc = "00000001",
                           DigestAlgorithm alg = DigestAlgorithm::kMd5) {
    DigestCredentials c;
    c.username = user;
    c.realm = "atende";
    c.nonce = nonce;
    c.uri = "sip:sales@127.0.0.1";
    c.algorithm = to_string(alg);
    c.qop = "auth";
    c.nc = nc;
    c.cnonce = "c0ffee";
    c.response = digest_response(alg, user, "atende", password, "INVITE", c.uri, nonce, c.nc,
                                 c.cnonce, c.qop);
    return c;
  }
};

TEST_F(DigestCheck, ChallengeOffersTheAlgorithmsInOrder) {
  const auto ch = auth.challenges(src, t0, false);
  ASSERT_EQ(ch.size(), 2u);
  EXPECT_NE(ch[0].find("algorithm=MD5"), std::string::npos) << ch[0];
  EXPECT_NE(ch[1].find("algorithm=SHA-256"), std::string::npos) << ch[1];
  EXPECT_NE(ch[0].find("realm=\"atende\""), std::string::npos);
  EXPECT_NE(ch[0].find("qop=\"auth\""), std::string::npos);
  EXPECT_EQ(ch[0].find("stale"), std::string::npos);
  EXPECT_NE(auth.challenges(src, t0, true)[0].find("stale=true"), std::string::npos);
}

TEST_F(DigestCheck, RightPasswordPassesWithEachAlgorithm) {
  int n = 0;
  for (auto alg : {DigestAlgorithm::kMd5, DigestAlgorithm::kMd5Sess, DigestAlgorithm::kSha256,
                   DigestAlgorithm::kSha256Sess}) {
    // A nonce per challenge (they differ by their time): one nonce answered twice is a replay.
    const auto nonce =
        nonce_from(auth.challenge(src, t0 + std::chrono::milliseconds(10 * ++n), alg, false));
    const auto r =
        auth.check(answer(nonce, "alice", "wonderland", "00000001", alg), "INVITE", src, t0 + 1s);
    EXPECT_EQ(r.kind, DigestResult::kOk) << to_string(alg) << ": " << r.why;
    EXPECT_EQ(r.user, "alice");
  }
}

TEST_F(DigestCheck, WithoutQop) {
  const auto nonce = nonce_from(auth.challenge(src, t0, DigestAlgorithm::kMd5, false));
  DigestCredentials c = answer(nonce, "bob", "builder");
  c.qop.clear();
  c.nc.clear();
  c.cnonce.clear();
  c.response = digest_response(DigestAlgorithm::kMd5, "bob", "atende", "builder", "INVITE", c.uri,
                               nonce, "", "", "");
  EXPECT_EQ(auth.check(c, "INVITE", src, t0).kind, DigestResult::kOk);
  // Without qop a nonce is good once.
  EXPECT_EQ(auth.check(c, "INVITE", src, t0).kind, DigestResult::kFailed);
}

TEST_F(DigestCheck, WrongUserAndWrongPasswordLookTheSame) {
  const auto nonce = nonce_from(auth.challenge(src, t0, DigestAlgorithm::kMd5, false));
  const auto wrong_pw = auth.check(answer(nonce, "alice", "guess"), "INVITE", src, t0);
  const auto no_user = auth.check(answer(nonce, "mallory", "guess"), "INVITE", src, t0);
  EXPECT_EQ(wrong_pw.kind, DigestResult::kFailed);
  EXPECT_EQ(no_user.kind, DigestResult::kFailed);
  EXPECT_STREQ(wrong_pw.why, no_user.why);
  // Even an unknown user who guesses the made-up password of the timing path gets nowhere.
  EXPECT_EQ(auth.check(answer(nonce, "mallory", "\x01no-such-account\x01"), "INVITE", src, t0).kind,
            DigestResult::kFailed);
}

TEST_F(DigestCheck, WrongMethodFails) {
  const auto nonce = nonce_from(auth.challenge(src, t0, DigestAlgorithm::kMd5, false));
  EXPECT_EQ(auth.check(answer(nonce, "alice", "wonderland"), "REGISTER", src, t0).kind,
            DigestResult::kFailed);
}

TEST_F(DigestCheck, ReplaysAreRefused) {
  const auto nonce = nonce_from(auth.challenge(src, t0, DigestAlgorithm::kMd5, false));
  EXPECT_EQ(auth.check(answer(nonce, "alice", "wonderland", "00000001"), "INVITE", src, t0).kind,
            DigestResult::kOk);
  // The same nc again: a replay.
  EXPECT_EQ(auth.check(answer(nonce, "alice", "wonderland", "00000001"), "INVITE", src, t0).kind,
            DigestResult::kFailed);
  // A higher nc on the same nonce is how a client reuses it.
  EXPECT_EQ(auth.check(answer(nonce, "alice", "wonderland", "00000002"), "INVITE", src, t0).kind,
            DigestResult::kOk);
  EXPECT_EQ(auth.check(answer(nonce, "alice", "wonderland", "00000002"), "INVITE", src, t0).kind,
            DigestResult::kFailed);
}

TEST_F(DigestCheck, NonceExpires) {
  const auto nonce = nonce_from(auth.challenge(src, t0, DigestAlgorithm::kMd5, false));
  const auto r = auth.check(answer(nonce, "alice", "wonderland"), "INVITE", src, t0 + 301s);
  EXPECT_EQ(r.kind, DigestResult::kStale);
  // Stale only with the right password: a wrong one on an old nonce is just wrong.
  EXPECT_EQ(auth.check(answer(nonce, "alice", "nope"), "INVITE", src, t0 + 301s).kind,
            DigestResult::kFailed);
}

TEST_F(DigestCheck, NonceIsBoundToItsAddressAndCannotBeForged) {
  const auto nonce = nonce_from(auth.challenge(src, t0, DigestAlgorithm::kMd5, false));
  EXPECT_EQ(auth.check(answer(nonce, "alice", "wonderland"), "INVITE", other, t0).kind,
            DigestResult::kFailed);
  std::string forged = nonce;
  forged[20] = forged[20] == 'a' ? 'b' : 'a';
  EXPECT_EQ(auth.check(answer(forged, "alice", "wonderland"), "INVITE", src, t0).kind,
            DigestResult::kFailed);
  EXPECT_EQ(auth.check(answer("dcd98b7102dd2f0e8b11d0f600bfb0c093", "alice", "wonderland"),
                       "INVITE", src, t0)
                .kind,
            DigestResult::kFailed);
  // Another process (another secret) does not take our nonces.
  DigestAuthenticator stranger{"atende", {{"alice", "wonderland"}}, 300s, "other-secret"};
  EXPECT_EQ(stranger.check(answer(nonce, "alice", "wonderland"), "INVITE", src, t0).kind,
            DigestResult::kFailed);
}

TEST_F(DigestCheck, FullReplayTableNeverLetsAReplayThrough) {
  // The table holds 4 nonces: used ones pushed out are stale from then on, not fresh.
  std::vector<std::string> nonces;
  for (int i = 0; i < 10; ++i) {
    nonces.push_back(nonce_from(
        auth.challenge(src, t0 + std::chrono::milliseconds(10 * i), DigestAlgorithm::kMd5, false)));
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(auth.check(answer(nonces[i], "alice", "wonderland"), "INVITE", src, t0 + 1s).kind,
              DigestResult::kOk)
        << i;
  }
  EXPECT_LE(auth.used_nonces(), 4u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_NE(auth.check(answer(nonces[i], "alice", "wonderland"), "INVITE", src, t0 + 1s).kind,
              DigestResult::kOk)
        << i;
  }
}

TEST_F(DigestCheck, RealmAndQopMustBeOurs) {
  const auto nonce = nonce_from(auth.challenge(src, t0, DigestAlgorithm::kMd5, false));
  auto c = answer(nonce, "alice", "wonderland");
  c.realm = "elsewhere";
  EXPECT_EQ(auth.check(c, "INVITE", src, t0).kind, DigestResult::kFailed);
  c = answer(nonce, "alice", "wonderland");
  c.qop = "auth-int";
  EXPECT_EQ(auth.check(c, "INVITE", src, t0).kind, DigestResult::kFailed);
  c = answer(nonce, "alice", "wonderland");
  c.algorithm = "SHA-512-256";
  EXPECT_EQ(auth.check(c, "INVITE", src, t0).kind, DigestResult::kFailed);
}

TEST_F(DigestCheck, OnlyOfferedAlgorithmsAreTaken) {
  DigestAuthenticator sha_only{"atende", {{"alice", "wonderland"}}, 300s, "fixed-secret",
                               16,       {DigestAlgorithm::kSha256}};
  const auto ch = sha_only.challenges(src, t0, false);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_NE(ch[0].find("algorithm=SHA-256"), std::string::npos);
  const auto nonce = nonce_from(ch[0]);
  EXPECT_EQ(sha_only.check(answer(nonce, "alice", "wonderland"), "INVITE", src, t0).kind,
            DigestResult::kFailed);  // MD5: not offered
  EXPECT_EQ(sha_only
                .check(answer(nonce, "alice", "wonderland", "00000001", DigestAlgorithm::kSha256),
                       "INVITE", src, t0)
                .kind,
            DigestResult::kOk);
}

TEST_F(DigestCheck, UserHash) {
  const auto nonce = nonce_from(auth.challenge(src, t0, DigestAlgorithm::kSha256, false));
  auto c = answer(nonce, "alice", "wonderland", "00000001", DigestAlgorithm::kSha256);
  c.userhash = true;
  c.username = digest_hash(DigestAlgorithm::kSha256, "alice:atende");
  EXPECT_EQ(auth.check(c, "INVITE", src, t0).kind, DigestResult::kOk);
}

}  // namespace
}  // namespace atende::sip
