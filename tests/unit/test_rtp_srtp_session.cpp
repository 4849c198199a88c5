// SRTP/SRTCP (our RFC 3711 transform on OpenSSL): two sessions with mirrored keys talk to
// each other; each side decrypts libsrtp2's packets and libsrtp2 decrypts ours, bit for bit,
// across a sequence-number roll-over and with CSRCs and header extensions; tampered,
// replayed and foreign packets are refused; protecting and unprotecting allocate
// nothing per packet (counted: operator new, and, since libsrtp and OpenSSL allocate with
// malloc, malloc/calloc/realloc themselves, interposed below outside sanitizer builds).
#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "alloc_counter.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_packet.h"
#include "rtp/srtp_session.h"

// C allocations while counting (libsrtp's and OpenSSL's). Not under ASan, which owns malloc.
#if !defined(__SANITIZE_ADDRESS__)
#define ATENDE_COUNT_MALLOC 1
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* malloc(size_t n) {
  if (alloc_counter::counting.load(std::memory_order_relaxed)) alloc_counter::allocations++;
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) {
  if (alloc_counter::counting.load(std::memory_order_relaxed)) alloc_counter::allocations++;
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  if (alloc_counter::counting.load(std::memory_order_relaxed)) alloc_counter::allocations++;
  return __libc_realloc(p, n);
}
}
#endif

namespace atende::rtp {
namespace {

SrtpKey key_of(uint8_t seed) {
  SrtpKey k;
  for (size_t i = 0; i < k.bytes.size(); ++i) k.bytes[i] = static_cast<uint8_t>(seed + i * 7);
  return k;
}

struct Pair {
  std::unique_ptr<SrtpSession> a, b;  // a sends with key 1, b with key 2
};

Pair make_pair(SrtpSuite suite) {
  SrtpParams pa{suite, key_of(1), key_of(2)};
  SrtpParams pb{suite, key_of(2), key_of(1)};
  std::string error;
  Pair p{SrtpSession::create(pa, &error), SrtpSession::create(pb, &error)};
  EXPECT_TRUE(p.a && p.b) << error;
  return p;
}

// An RTP packet (PCMU, 160 bytes of payload) in a buffer with room for the trailer.
struct Packet {
  std::array<uint8_t, 1500> buf{};
  size_t len = 0;
};

Packet rtp_packet(uint16_t seq, uint8_t fill = 0x55) {
  Packet p;
  RtpHeader h;
  h.payload_type = 0;
  h.sequence = seq;
  h.timestamp = 160u * seq;
  h.ssrc = 0x11223344;
  std::array<uint8_t, 160> payload;
  payload.fill(fill);
  p.len = write_rtp(p.buf, h, payload);
  return p;
}

class SrtpSessionTest : public ::testing::TestWithParam<SrtpSuite> {};

TEST_P(SrtpSessionTest, ProtectThenUnprotectRoundTrips) {
  auto s = make_pair(GetParam());
  for (uint16_t seq = 100; seq < 110; ++seq) {
    Packet plain = rtp_packet(seq);
    Packet p = plain;
    ASSERT_EQ(s.a->protect_rtp(p.buf.data(), p.len, p.buf.size()), SrtpStatus::kOk);
    const size_t tag = GetParam() == SrtpSuite::kAesCm128HmacSha1_80 ? 10 : 4;
    EXPECT_EQ(p.len, plain.len + tag);
    // The header stays readable, the payload does not.
    EXPECT_EQ(std::memcmp(p.buf.data(), plain.buf.data(), 12), 0);
    EXPECT_NE(std::memcmp(p.buf.data() + 12, plain.buf.data() + 12, 160), 0);
    ASSERT_EQ(s.b->unprotect_rtp(p.buf.data(), p.len), SrtpStatus::kOk);
    ASSERT_EQ(p.len, plain.len);
    EXPECT_EQ(std::memcmp(p.buf.data(), plain.buf.data(), plain.len), 0);
  }
}

TEST_P(SrtpSessionTest, TamperedPacketIsRejected) {
  auto s = make_pair(GetParam());
  Packet p = rtp_packet(7);
  ASSERT_EQ(s.a->protect_rtp(p.buf.data(), p.len, p.buf.size()), SrtpStatus::kOk);
  for (size_t at : {size_t{1}, size_t{20}, p.len - 1}) {  // header, payload, tag
    Packet t = p;
    t.buf[at] ^= 0x01;
    EXPECT_EQ(s.b->unprotect_rtp(t.buf.data(), t.len), SrtpStatus::kAuthFailed) << at;
  }
  // Truncated: the tag cannot verify.
  Packet shorter = p;
  shorter.len -= 3;
  EXPECT_NE(s.b->unprotect_rtp(shorter.buf.data(), shorter.len), SrtpStatus::kOk);
  // The untouched packet still passes: the failures left no state behind.
  EXPECT_EQ(s.b->unprotect_rtp(p.buf.data(), p.len), SrtpStatus::kOk);
}

TEST_P(SrtpSessionTest, ReplayedPacketIsRejected) {
  auto s = make_pair(GetParam());
  Packet p = rtp_packet(1000);
  ASSERT_EQ(s.a->protect_rtp(p.buf.data(), p.len, p.buf.size()), SrtpStatus::kOk);
  Packet copy = p;
  ASSERT_EQ(s.b->unprotect_rtp(p.buf.data(), p.len), SrtpStatus::kOk);
  EXPECT_EQ(s.b->unprotect_rtp(copy.buf.data(), copy.len), SrtpStatus::kReplay);
  // A late but unseen packet inside the window is fine; one far behind it is not.
  Packet later = rtp_packet(1001), late = rtp_packet(999);
  ASSERT_EQ(s.a->protect_rtp(later.buf.data(), later.len, later.buf.size()), SrtpStatus::kOk);
  ASSERT_EQ(s.a->protect_rtp(late.buf.data(), late.len, late.buf.size()), SrtpStatus::kOk);
  EXPECT_EQ(s.b->unprotect_rtp(later.buf.data(), later.len), SrtpStatus::kOk);
  EXPECT_EQ(s.b->unprotect_rtp(late.buf.data(), late.len), SrtpStatus::kOk);
}

TEST_P(SrtpSessionTest, WrongKeyIsRejected) {
  auto s = make_pair(GetParam());
  Packet p = rtp_packet(5);
  ASSERT_EQ(s.a->protect_rtp(p.buf.data(), p.len, p.buf.size()), SrtpStatus::kOk);
  // a's own inbound key is key 2: a packet made with key 1 does not verify there.
  EXPECT_EQ(s.a->unprotect_rtp(p.buf.data(), p.len), SrtpStatus::kAuthFailed);
  // Plain RTP sent to an SRTP leg fails too (its last bytes are taken for a tag).
  Packet plain = rtp_packet(6);
  EXPECT_EQ(s.b->unprotect_rtp(plain.buf.data(), plain.len), SrtpStatus::kAuthFailed);
}

TEST_P(SrtpSessionTest, RtcpRoundTripTamperAndReplay) {
  auto s = make_pair(GetParam());
  std::array<uint8_t, 512> buf{};
  SenderInfo info;
  info.packet_count = 10;
  size_t len = write_sender_report(buf, 0x11223344, info, nullptr, "atende");
  ASSERT_GT(len, 0u);
  std::vector<uint8_t> plain(buf.begin(), buf.begin() + len);
  ASSERT_EQ(s.a->protect_rtcp(buf.data(), len, buf.size()), SrtpStatus::kOk);
  EXPECT_EQ(len, plain.size() + 4 + 10);  // SRTCP index (E flag) + 80-bit tag, both suites
  auto copy = buf;
  size_t copy_len = len;
  auto bad = buf;
  bad[10] ^= 0x80;
  size_t bad_len = len;
  EXPECT_EQ(s.b->unprotect_rtcp(bad.data(), bad_len), SrtpStatus::kAuthFailed);
  ASSERT_EQ(s.b->unprotect_rtcp(buf.data(), len), SrtpStatus::kOk);
  ASSERT_EQ(len, plain.size());
  EXPECT_EQ(std::memcmp(buf.data(), plain.data(), len), 0);
  EXPECT_EQ(s.b->unprotect_rtcp(copy.data(), copy_len), SrtpStatus::kReplay);
}

TEST_P(SrtpSessionTest, GarbageIsRefusedWithoutCrashing) {
  auto s = make_pair(GetParam());
  std::array<uint8_t, 64> junk{};
  for (size_t len = 0; len < junk.size(); ++len) {
    for (uint8_t b0 : {uint8_t{0x00}, uint8_t{0x80}, uint8_t{0x9f}, uint8_t{0xff}}) {
      junk.fill(0xa5);
      junk[0] = b0;
      size_t n = len;
      EXPECT_NE(s.b->unprotect_rtp(junk.data(), n), SrtpStatus::kOk);
      n = len;
      EXPECT_NE(s.b->unprotect_rtcp(junk.data(), n), SrtpStatus::kOk);
    }
  }
  // No room for the trailer: refused, nothing written past the buffer.
  Packet p = rtp_packet(1);
  EXPECT_EQ(s.a->protect_rtp(p.buf.data(), p.len, p.len + 4), SrtpStatus::kMalformed);
}

TEST_P(SrtpSessionTest, NoAllocationPerPacket) {
  auto s = make_pair(GetParam());
  // The first packets of a new SSRC set up its stream (and OpenSSL its lazy state).
  for (uint16_t seq = 1; seq < 3; ++seq) {
    Packet first = rtp_packet(seq);
    ASSERT_EQ(s.a->protect_rtp(first.buf.data(), first.len, first.buf.size()), SrtpStatus::kOk);
    ASSERT_EQ(s.b->unprotect_rtp(first.buf.data(), first.len), SrtpStatus::kOk);
  }
  std::vector<Packet> packets;
  for (uint16_t seq = 3; seq < 503; ++seq) packets.push_back(rtp_packet(seq));
  alloc_counter::allocations = 0;
  alloc_counter::counting = true;
  for (auto& p : packets) {
    ASSERT_EQ(s.a->protect_rtp(p.buf.data(), p.len, p.buf.size()), SrtpStatus::kOk);
    ASSERT_EQ(s.b->unprotect_rtp(p.buf.data(), p.len), SrtpStatus::kOk);
  }
  alloc_counter::counting = false;
  EXPECT_EQ(alloc_counter::allocations.load(), 0);
}

// libsrtp2 as the other end: one session per direction (it keeps one "any SSRC" template).
class Libsrtp {
 public:
  Libsrtp(SrtpSuite suite, SrtpKey tx, SrtpKey rx) {
    static const bool ready = srtp_init() == srtp_err_status_ok;
    EXPECT_TRUE(ready);
    make(suite, tx, ssrc_any_outbound, out_);
    make(suite, rx, ssrc_any_inbound, in_);
  }
  ~Libsrtp() {
    if (out_) srtp_dealloc(out_);
    if (in_) srtp_dealloc(in_);
  }
  srtp_err_status_t protect(Packet& p) { return run(srtp_protect, out_, p); }
  srtp_err_status_t unprotect(Packet& p) { return run(srtp_unprotect, in_, p); }
  srtp_err_status_t protect_rtcp(Packet& p) { return run(srtp_protect_rtcp, out_, p); }
  srtp_err_status_t unprotect_rtcp(Packet& p) { return run(srtp_unprotect_rtcp, in_, p); }

 private:
  static void make(SrtpSuite suite, SrtpKey key, srtp_ssrc_type_t type, srtp_t& ctx) {
    srtp_policy_t p{};
    if (suite == SrtpSuite::kAesCm128HmacSha1_32)
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
    else
      srtp_crypto_policy_set_rtp_default(&p.rtp);
    srtp_crypto_policy_set_rtcp_default(&p.rtcp);
    p.ssrc.type = type;
    p.key = key.bytes.data();
    p.window_size = 128;
    ASSERT_EQ(srtp_create(&ctx, &p), srtp_err_status_ok);
  }
  template <class Fn>
  static srtp_err_status_t run(Fn fn, srtp_t ctx, Packet& p) {
    int n = static_cast<int>(p.len);
    const auto s = fn(ctx, p.buf.data(), &n);
    if (s == srtp_err_status_ok) p.len = static_cast<size_t>(n);
    return s;
  }
  srtp_t out_ = nullptr, in_ = nullptr;
};

// An RTP packet with `csrcs` CSRCs, an optional header extension, and `payload` bytes of
// pseudo-random data.
Packet odd_packet(std::mt19937& rng, uint16_t seq, uint32_t ssrc, int csrcs, bool extension,
                  size_t payload) {
  Packet p;
  p.buf[0] = static_cast<uint8_t>(0x80 | (extension ? 0x10 : 0) | csrcs);
  p.buf[1] = 8;
  p.buf[2] = static_cast<uint8_t>(seq >> 8);
  p.buf[3] = static_cast<uint8_t>(seq);
  const uint32_t ts = seq * 160u;
  for (int i = 0; i < 4; ++i) p.buf[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) p.buf[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  size_t n = 12;
  for (int c = 0; c < csrcs * 4; ++c) p.buf[n++] = static_cast<uint8_t>(rng());
  if (extension) {
    p.buf[n++] = 0xbe;
    p.buf[n++] = 0xde;
    p.buf[n++] = 0;
    p.buf[n++] = 1;  // one 32-bit word
    for (int c = 0; c < 4; ++c) p.buf[n++] = static_cast<uint8_t>(rng());
  }
  for (size_t i = 0; i < payload; ++i) p.buf[n++] = static_cast<uint8_t>(rng());
  p.len = n;
  return p;
}

TEST_P(SrtpSessionTest, InteroperatesWithLibsrtpAcrossARollOver) {
  const SrtpKey k1 = key_of(11), k2 = key_of(99);
  std::string error;
  auto ours = SrtpSession::create({GetParam(), k1, k2}, &error);
  ASSERT_TRUE(ours) << error;
  Libsrtp theirs(GetParam(), k2, k1);
  std::mt19937 rng(7);
  // 65500 .. 65535, 0 .. 63: the rollover counter goes to 1 on both sides.
  for (uint32_t n = 0; n < 100; ++n) {
    const uint16_t seq = static_cast<uint16_t>(65500 + n);
    const int csrcs = n % 3;
    const bool ext = n % 4 == 1;
    const size_t payload = n % 7 == 0 ? 0 : 1 + rng() % 300;
    // Ours -> libsrtp.
    Packet plain = odd_packet(rng, seq, 0xabc00001, csrcs, ext, payload);
    Packet p = plain;
    ASSERT_EQ(ours->protect_rtp(p.buf.data(), p.len, p.buf.size()), SrtpStatus::kOk) << n;
    ASSERT_EQ(theirs.unprotect(p), srtp_err_status_ok) << n;
    ASSERT_EQ(p.len, plain.len);
    ASSERT_EQ(std::memcmp(p.buf.data(), plain.buf.data(), p.len), 0) << n;
    // libsrtp -> ours, and the two ciphertexts of the same packet and key are identical.
    Packet q = odd_packet(rng, seq, 0xdef00002, csrcs, ext, payload);
    Packet q_plain = q;
    ASSERT_EQ(theirs.protect(q), srtp_err_status_ok) << n;
    ASSERT_EQ(ours->unprotect_rtp(q.buf.data(), q.len), SrtpStatus::kOk) << n;
    ASSERT_EQ(q.len, q_plain.len);
    ASSERT_EQ(std::memcmp(q.buf.data(), q_plain.buf.data(), q.len), 0) << n;
  }
}

TEST_P(SrtpSessionTest, SameCiphertextAsLibsrtp) {
  const SrtpKey k = key_of(42);
  std::string error;
  auto ours = SrtpSession::create({GetParam(), k, key_of(1)}, &error);
  Libsrtp theirs(GetParam(), k, key_of(1));
  for (uint16_t seq : {uint16_t{1}, uint16_t{2}, uint16_t{40000}}) {
    Packet a = rtp_packet(seq), b = a;
    ASSERT_EQ(ours->protect_rtp(a.buf.data(), a.len, a.buf.size()), SrtpStatus::kOk);
    ASSERT_EQ(theirs.protect(b), srtp_err_status_ok);
    ASSERT_EQ(a.len, b.len);
    EXPECT_EQ(std::memcmp(a.buf.data(), b.buf.data(), a.len), 0) << seq;
  }
}

TEST_P(SrtpSessionTest, RtcpInteroperatesWithLibsrtp) {
  const SrtpKey k1 = key_of(5), k2 = key_of(6);
  std::string error;
  auto ours = SrtpSession::create({GetParam(), k1, k2}, &error);
  Libsrtp theirs(GetParam(), k2, k1);
  for (int i = 0; i < 5; ++i) {
    Packet p;
    SenderInfo info;
    info.packet_count = static_cast<uint32_t>(i);
    p.len = write_sender_report(p.buf, 0x11223344, info, nullptr, "atende");
    Packet plain = p;
    ASSERT_EQ(ours->protect_rtcp(p.buf.data(), p.len, p.buf.size()), SrtpStatus::kOk);
    ASSERT_EQ(theirs.unprotect_rtcp(p), srtp_err_status_ok) << i;
    ASSERT_EQ(p.len, plain.len);
    EXPECT_EQ(std::memcmp(p.buf.data(), plain.buf.data(), p.len), 0);
    Packet q;
    q.len = write_receiver_report(q.buf, 0x55667788, nullptr, "peer");
    Packet q_plain = q;
    ASSERT_EQ(theirs.protect_rtcp(q), srtp_err_status_ok);
    ASSERT_EQ(ours->unprotect_rtcp(q.buf.data(), q.len), SrtpStatus::kOk) << i;
    ASSERT_EQ(q.len, q_plain.len);
    EXPECT_EQ(std::memcmp(q.buf.data(), q_plain.buf.data(), q.len), 0);
  }
}

TEST_P(SrtpSessionTest, SeveralRemoteSsrcs) {
  auto s = make_pair(GetParam());
  // The peer re-originates (new SSRC), then an old one comes back: both still decrypt, and
  // each keeps its own replay window.
  std::mt19937 rng(3);
  int round = 0;
  for (uint32_t ssrc : {1u, 2u, 3u, 1u, 2u}) {
    ++round;
    for (uint16_t k = 0; k < 3; ++k) {
      const uint16_t seq = static_cast<uint16_t>(ssrc * 100 + round * 10 + k);
      Packet p = odd_packet(rng, seq, ssrc, 0, false, 20);
      ASSERT_EQ(s.a->protect_rtp(p.buf.data(), p.len, p.buf.size()), SrtpStatus::kOk);
      Packet copy = p;
      ASSERT_EQ(s.b->unprotect_rtp(p.buf.data(), p.len), SrtpStatus::kOk) << ssrc << " " << seq;
      EXPECT_EQ(s.b->unprotect_rtp(copy.buf.data(), copy.len), SrtpStatus::kReplay);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Suites, SrtpSessionTest,
                         ::testing::Values(SrtpSuite::kAesCm128HmacSha1_80,
                                           SrtpSuite::kAesCm128HmacSha1_32),
                         [](const auto& info) {
                           return info.param == SrtpSuite::kAesCm128HmacSha1_80 ? "Sha1_80"
                                                                                : "Sha1_32";
                         });

TEST(SrtpSession, SuiteNames) {
  EXPECT_STREQ(to_string(SrtpSuite::kAesCm128HmacSha1_80), "AES_CM_128_HMAC_SHA1_80");
  EXPECT_STREQ(to_string(SrtpSuite::kAesCm128HmacSha1_32), "AES_CM_128_HMAC_SHA1_32");
}

}  // namespace
}  // namespace atende::rtp
