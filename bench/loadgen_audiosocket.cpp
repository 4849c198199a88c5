// loadgen_audiosocket: N concurrent AudioSocket sessions (docs/audiosocket.md) from one epoll
// thread, each behaving as Asterisk's AudioSocket() application: TCP connect, the UUID
// message first, then one 20 ms signed-linear frame every 20 ms (320 bytes at 8 kHz, type
// 0x10; --rate 16000: 640 bytes, type 0x12), and 0x00 (hang-up) at the end. It reads what
// atende sends back and measures atende's send pacing on each session, as loadgen_echo does
// for RTP.
//
// The engine (pacing, phases, statistics, the JSON report) is loadgen_stream.h, shared with
// loadgen_asp; this file is AudioSocket's framing only. A session sends from the moment its
// UUID is out, as Asterisk does, and is up when atende's first frame comes. Each read asks for
// at most the rest of the message being read (a whole frame when none is), so one read is one
// frame in the steady state, and its kernel receive timestamp (SO_TIMESTAMPNS; TCP gives the
// newest segment's) is that frame's arrival. Every gap should be one period (AudioSocket has
// no sequence numbers: a frame atende skipped shows as a 40 ms gap, i.e. 20 ms of jitter, and
// as fewer than 50 frames a second).
//
// Usage:
//   loadgen_audiosocket --target 127.0.0.1:9092 --sessions N [--seconds 10] [--warmup 2]
//                       [--settle 1] [--setup-rate 200] [--rate 8000]
//                       [--payload quiet|tone|silence] [--server-pid PID]
#include <sys/random.h>

#include "loadgen_stream.h"

namespace atende::bench {
namespace {

constexpr size_t kHeader = 3;

class AudioSocketProtocol final : public StreamProtocol {
 public:
  const char* mode() const override { return "audiosocket"; }

  void OnConnected(StreamLoadGen& gen, Session& s, size_t) override {
    // The UUID first (random, version 4 bits set as a real one has); audio from now on.
    std::array<uint8_t, kHeader + 16> uuid{0x01, 0x00, 0x10};
    if (getrandom(uuid.data() + kHeader, 16, 0) != 16) return gen.Close(s);
    uuid[kHeader + 6] = static_cast<uint8_t>((uuid[kHeader + 6] & 0x0F) | 0x40);
    uuid[kHeader + 8] = static_cast<uint8_t>((uuid[kHeader + 8] & 0x3F) | 0x80);
    s.state = State::kUp;  // sending; counted up when atende's first frame comes
    if (!gen.Write(s, uuid.data(), uuid.size())) gen.Close(s);
  }

  size_t Want(const Session& s) const override {
    if (s.in_len >= kHeader) {
      const size_t total = kHeader + (size_t(s.in[1]) << 8 | s.in[2]);
      return total > s.in_len ? total - s.in_len : 0;
    }
    return s.in_len > 0 ? kHeader - s.in_len : kHeader + 320;
  }

  void OnBytes(StreamLoadGen& gen, Session& s, int64_t stamp) override {
    while (s.in_len >= kHeader) {
      const size_t len = size_t(s.in[1]) << 8 | s.in[2];
      if (s.in_len < kHeader + len) break;
      OnMessage(gen, s, s.in[0], s.in.data() + kHeader, len, stamp);
      if (s.fd < 0) return;
      std::memmove(s.in.data(), s.in.data() + kHeader + len, s.in_len - kHeader - len);
      s.in_len -= kHeader + len;
    }
  }

  std::vector<uint8_t> Frame(const std::vector<int16_t>& pcm) const override {
    std::vector<uint8_t> f(kHeader + 2 * pcm.size());
    f[0] = pcm.size() == 320 ? 0x12 : 0x10;  // 16 kHz : 8 kHz slin
    f[1] = static_cast<uint8_t>((2 * pcm.size()) >> 8);
    f[2] = static_cast<uint8_t>(2 * pcm.size());
    for (size_t n = 0; n < pcm.size(); ++n) {
      f[kHeader + 2 * n] = static_cast<uint8_t>(uint16_t(pcm[n]) & 0xff);
      f[kHeader + 2 * n + 1] = static_cast<uint8_t>(uint16_t(pcm[n]) >> 8);
    }
    return f;
  }

  std::vector<uint8_t> HangUp() const override { return {0x00, 0x00, 0x00}; }

 private:
  void OnMessage(StreamLoadGen& gen, Session& s, uint8_t type, const uint8_t* payload, size_t len,
                 int64_t stamp) {
    if (type >= 0x10 && type <= 0x18) return gen.AudioFrame(s, stamp);
    if (type == 0x00) return gen.Ended(s, -1);
    if (type == 0xff) return gen.Ended(s, len > 0 ? payload[0] : -1);
    if (type != 0x03) gen.BadMessage();  // DTMF from atende is possible; the rest is not
  }
};

}  // namespace
}  // namespace atende::bench

int main(int argc, char** argv) {
  using namespace atende::bench;
  StreamOptions o;
  if (!ParseStreamArgs(argc, argv, o, {}, "")) return 2;
  AudioSocketProtocol protocol;
  return StreamLoadGen(o, protocol).Run();
}
