// loadgen_asp: N concurrent ASP sessions (docs/asp.md) from one epoll thread, each behaving
// as a media server connecting to atende's /asp: the WebSocket upgrade, protocol.capabilities
// read, session.start (a fresh UUID, the rate, `to` = what answers), then the caller's audio
// as one binary message of 20 ms every 20 ms (masked, as a client must), and session.end at
// the end (atende answers session.ended and closes).
//
// The engine (pacing, phases, statistics, the JSON report) is loadgen_stream.h, shared with
// loadgen_audiosocket; this file is the WebSocket framing and ASP's few messages only. A
// session is up at session.started. atende's audio comes only while it responds (between
// response.start and response.end; nothing between responses), so pacing is measured within
// responses: the gap across two responses is not counted. Each read asks for at most the rest
// of the WebSocket message in hand, so one read is one message in the steady state and its
// kernel receive timestamp is that message's arrival.
//
// Usage:
//   loadgen_asp --target 127.0.0.1:8080 --sessions N [--to FLOW] [--token TOKEN]
//               [--seconds 10] [--warmup 2] [--settle 1] [--setup-rate 200] [--rate 8000]
//               [--payload quiet|tone|silence] [--server-pid PID]
#include <sys/random.h>

#include <string_view>

#include "loadgen_stream.h"

namespace atende::bench {
namespace {

enum Stage { kHandshake = 0, kCapabilities = 1, kStarting = 2, kRunning = 3 };

// A client frame (RFC 6455 5.2): FIN, `opcode`, masked with a fixed key (the server may not
// care what the key is; a bench does not need it random).
std::vector<uint8_t> ClientFrame(uint8_t opcode, const uint8_t* data, size_t len) {
  static constexpr std::array<uint8_t, 4> kKey{0x37, 0xfa, 0x21, 0x3d};
  std::vector<uint8_t> f;
  f.push_back(static_cast<uint8_t>(0x80 | opcode));
  if (len < 126) {
    f.push_back(static_cast<uint8_t>(0x80 | len));
  } else {
    f.push_back(0x80 | 126);
    f.push_back(static_cast<uint8_t>(len >> 8));
    f.push_back(static_cast<uint8_t>(len));
  }
  f.insert(f.end(), kKey.begin(), kKey.end());
  for (size_t i = 0; i < len; ++i) f.push_back(static_cast<uint8_t>(data[i] ^ kKey[i % 4]));
  return f;
}

std::vector<uint8_t> TextFrame(std::string_view text) {
  return ClientFrame(0x1, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

std::string RandomUuid() {
  std::array<uint8_t, 16> b{};
  if (getrandom(b.data(), b.size(), 0) != 16) return {};
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

bool Has(std::string_view text, std::string_view type) {
  // atende writes compact JSON ({"type":"response.start",...}); a space after the colon too.
  return text.find("\"type\":\"" + std::string(type) + "\"") != std::string_view::npos ||
         text.find("\"type\": \"" + std::string(type) + "\"") != std::string_view::npos;
}

class AspProtocol final : public StreamProtocol {
 public:
  AspProtocol(const StreamOptions& o) : opt_(o) {
    auto get = [&](const char* k, const char* d) {
      auto it = o.extra.find(k);
      return it == o.extra.end() ? std::string(d) : it->second;
    };
    to_ = get("to", "asp");
    token_ = get("token", "");
  }
  const char* mode() const override { return "asp"; }

  void OnConnected(StreamLoadGen& gen, Session& s, size_t) override {
    std::string req = "GET /asp?to=" + to_ + " HTTP/1.1\r\nHost: " + opt_.host + ":" +
                      std::to_string(opt_.port) +
                      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n";
    if (!token_.empty()) req += "Authorization: Bearer " + token_ + "\r\n";
    req += "\r\n";
    s.stage = kHandshake;
    if (!gen.Write(s, reinterpret_cast<const uint8_t*>(req.data()), req.size())) gen.Close(s);
  }

  size_t Want(const Session& s) const override {
    if (s.stage == kHandshake) return s.in.size() - s.in_len;  // the 101's headers, whatever
    if (s.in_len < 2) return 2 - s.in_len;
    const size_t total = MessageSize(s);
    if (total == 0) return HeaderSize(s) - s.in_len;  // the extended length is not in yet
    return total > s.in_len ? total - s.in_len : 0;
  }

  void OnBytes(StreamLoadGen& gen, Session& s, int64_t stamp) override {
    if (s.stage == kHandshake) {
      const std::string_view text(reinterpret_cast<const char*>(s.in.data()), s.in_len);
      const size_t end = text.find("\r\n\r\n");
      if (end == std::string_view::npos) return;  // more headers to come
      if (text.substr(0, 12) != "HTTP/1.1 101") {
        gen.BadMessage();
        return gen.Ended(s, -1);
      }
      const size_t rest = s.in_len - (end + 4);
      std::memmove(s.in.data(), s.in.data() + end + 4, rest);
      s.in_len = rest;
      s.stage = kCapabilities;
    }
    while (s.in_len >= 2) {
      const size_t total = MessageSize(s);
      if (total == 0 || s.in_len < total) return;
      const size_t header = total - PayloadSize(s);
      OnMessage(gen, s, s.in[0] & 0x0f, s.in.data() + header, total - header, stamp);
      if (s.fd < 0) return;
      std::memmove(s.in.data(), s.in.data() + total, s.in_len - total);
      s.in_len -= total;
    }
  }

  std::vector<uint8_t> Frame(const std::vector<int16_t>& pcm) const override {
    std::vector<uint8_t> bytes(2 * pcm.size());
    for (size_t n = 0; n < pcm.size(); ++n) {
      bytes[2 * n] = static_cast<uint8_t>(uint16_t(pcm[n]) & 0xff);
      bytes[2 * n + 1] = static_cast<uint8_t>(uint16_t(pcm[n]) >> 8);
    }
    return ClientFrame(0x2, bytes.data(), bytes.size());
  }

  std::vector<uint8_t> HangUp() const override {
    return TextFrame(R"({"type":"session.end","reason":"hangup"})");
  }

 private:
  // A server frame is never masked: 2 header bytes, + 2 (len 126) or + 8 (len 127).
  static size_t PayloadSize(const Session& s) {
    const size_t len7 = s.in[1] & 0x7f;
    if (len7 < 126) return len7;
    if (len7 == 126) return s.in_len >= 4 ? (size_t(s.in[2]) << 8 | s.in[3]) : 0;
    size_t len = 0;
    for (int i = 0; i < 8; ++i) len = len << 8 | s.in[2 + i];
    return len;
  }
  static size_t HeaderSize(const Session& s) {
    const size_t len7 = s.in[1] & 0x7f;
    return len7 < 126 ? 2 : len7 == 126 ? 4 : 10;
  }
  // The whole message's size, header included; 0 when the header itself is not in yet.
  static size_t MessageSize(const Session& s) {
    const size_t header = HeaderSize(s);
    if (s.in_len < header) return 0;
    const size_t payload = PayloadSize(s);
    if (payload > kMaxMessage - 10) return SIZE_MAX / 2;  // too large for us: Want says 0
    return header + payload;
  }

  void OnMessage(StreamLoadGen& gen, Session& s, uint8_t opcode, const uint8_t* payload, size_t len,
                 int64_t stamp) {
    if (opcode == 0x2) {
      if (s.stage == kRunning) gen.AudioFrame(s, stamp);
      return;
    }
    if (opcode == 0x8) return gen.Ended(s, len >= 2 ? (payload[0] << 8 | payload[1]) : -1);
    if (opcode != 0x1) return;  // ping/pong: Beast sends none unless asked
    const std::string_view text(reinterpret_cast<const char*>(payload), len);
    if (Has(text, "protocol.capabilities") && s.stage == kCapabilities) {
      const std::string start =
          R"({"type":"session.start","version":"1.0.0","session_id":")" + RandomUuid() +
          R"(","audio":{"sample_rate":)" + std::to_string(opt_.rate) +
          R"(,"encoding":"pcm_s16le","channels":1,"frame_ms":20},"from":"loadgen","to":")" + to_ +
          R"("})";
      s.stage = kStarting;
      if (!gen.Write(s, TextFrame(start))) gen.Close(s);
    } else if (Has(text, "session.started") && s.stage == kStarting) {
      s.stage = kRunning;
      gen.MarkUp(s);  // audio both ways from now on
    } else if (Has(text, "response.start") || Has(text, "response.end")) {
      gen.AudioPause(s);  // the gap between two responses is not pacing
    } else if (Has(text, "session.ended")) {
      if (!s.hung_up) gen.Ended(s, -1);
    } else if (Has(text, "error")) {
      gen.BadMessage();
      std::fprintf(stderr, "loadgen_asp: error from atende: %.*s\n", static_cast<int>(len),
                   reinterpret_cast<const char*>(payload));
    } else if (!Has(text, "dtmf")) {
      gen.BadMessage();
    }
  }

  const StreamOptions& opt_;
  std::string to_;
  std::string token_;
};

}  // namespace
}  // namespace atende::bench

int main(int argc, char** argv) {
  using namespace atende::bench;
  StreamOptions o;
  o.port = 8080;
  if (!ParseStreamArgs(argc, argv, o, {"to", "token"}, " [--to FLOW] [--token TOKEN]")) {
    return 2;
  }
  AspProtocol protocol(o);
  return StreamLoadGen(o, protocol).Run();
}
