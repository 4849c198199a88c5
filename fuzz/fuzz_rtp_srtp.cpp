// libFuzzer: hostile packets into an SRTP leg's receive path (rtp/srtp_session.h).
// Arbitrary bytes are unprotected as SRTP and SRTCP; then, so that the fuzzer also reaches
// past the tag check, the input is sent as a real protected packet and the copy mutated by
// its first byte. Invariants: nothing but the genuine packet verifies; lengths stay within
// the buffer; a verified packet decrypts to what was sent.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "rtp/srtp_session.h"

using namespace atende::rtp;

namespace {

struct Sessions {
  std::unique_ptr<SrtpSession> tx, rx;
};

Sessions make(SrtpSuite suite) {
  SrtpParams a, b;
  a.suite = b.suite = suite;
  a.local.bytes.fill(1);
  a.remote.bytes.fill(2);
  b.local = a.remote;
  b.remote = a.local;
  std::string error;
  return {SrtpSession::create(a, &error), SrtpSession::create(b, &error)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1400) return 0;
  // Fresh sessions per input: replay windows must not make runs depend on each other.
  const SrtpSuite suite =
      size % 2 ? SrtpSuite::kAesCm128HmacSha1_32 : SrtpSuite::kAesCm128HmacSha1_80;
  Sessions s = make(suite);
  if (!s.tx || !s.rx) std::abort();
  std::array<uint8_t, 1500 + kSrtpMaxTrailer> buf{};

  // 1. The raw bytes, as SRTP and as SRTCP.
  std::memcpy(buf.data(), data, size);
  size_t len = size;
  if (s.rx->unprotect_rtp(buf.data(), len) == SrtpStatus::kOk) std::abort();  // no key match
  std::memcpy(buf.data(), data, size);
  len = size;
  if (s.rx->unprotect_rtcp(buf.data(), len) == SrtpStatus::kOk) std::abort();

  // 2. The bytes as a protected RTP packet (a fixed valid header, then the input), and
  //    a copy with one byte flipped: only the untouched one verifies.
  if (size < 2) return 0;
  const uint8_t header[12] = {0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0x11, 0x22, 0x33, 0x44};
  std::memcpy(buf.data(), header, sizeof header);
  std::memcpy(buf.data() + sizeof header, data + 1, size - 1);
  len = sizeof header + size - 1;
  std::array<uint8_t, 1500 + kSrtpMaxTrailer> plain = buf;
  const size_t plain_len = len;
  if (s.tx->protect_rtp(buf.data(), len, buf.size()) != SrtpStatus::kOk) std::abort();
  if (len > buf.size()) std::abort();
  std::array<uint8_t, 1500 + kSrtpMaxTrailer> mutated = buf;
  size_t mutated_len = len;
  mutated[data[0] % mutated_len] ^= static_cast<uint8_t>(1 + (data[0] >> 1) % 255);
  if (s.rx->unprotect_rtp(mutated.data(), mutated_len) == SrtpStatus::kOk) std::abort();
  if (s.rx->unprotect_rtp(buf.data(), len) != SrtpStatus::kOk) std::abort();
  if (len != plain_len || std::memcmp(buf.data(), plain.data(), len) != 0) std::abort();
  return 0;
}
