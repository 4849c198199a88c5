// RTP echo probe for the call-rate bench: "each call's RTP port echoed a packet", checked
// from outside the server. SIPp's calls advertise this probe's port as their media address
// (bench/sipp/uac_call_probe.xml), so every call's RTP leg sends here from its own port
// and SSRC. The first packet of each (port, SSRC) -- one call -- is answered with one probe
// packet (PCMU, a fixed non-silent pattern) sent back to that port; the server's echo flow
// plays it back, and the probe marks the call echoed when a packet of that (port, SSRC)
// carries the pattern. The echo goes through the server's jitter buffer, which starts
// playing once 60 ms are buffered: the first probe goes out as 3 packets (consecutive
// sequence numbers and timestamps), then one more every 40 ms while no echo came, 6 at
// most.
//
//   loadgen_rtp_probe --port 30000     # until SIGTERM/SIGINT, then one JSON line on stdout
//
// {"calls": N, "echoed": M, "probes_sent": P, "packets_in": K, "not_echoed_ports": [...]}
// `calls` counts (port, SSRC) pairs seen; one thread, blocking recv with a 10 ms timeout.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

constexpr size_t kPayload = 160;             // 20 ms of PCMU
constexpr uint32_t kProbeSsrc = 0x50524f42;  // "PROB"
constexpr int kFirstProbes = 3;
constexpr int kMaxProbes = 6;
constexpr int64_t kResendMs = 40;

// Loud, non-silent u-law codes, none of them the two zero codes (0x7f, 0xff) that a
// decode/encode round trip may swap.
uint8_t pattern(size_t i) { return static_cast<uint8_t>(0x10 + (i * 7) % 0x60); }

struct Call {
  sockaddr_in from{};
  uint8_t payload_type = 0;
  int probes = 0;
  uint16_t seq = 1;
  uint32_t ts = 0;
  int64_t last_probe_ms = 0;
  bool echoed = false;
};

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) port = std::atoi(argv[i + 1]);
  }
  if (port <= 0 || port > 65535) {
    std::fprintf(stderr, "usage: loadgen_rtp_probe --port PORT\n");
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int buf = 16 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("bind");
    return 1;
  }
  std::printf("{\"ready\": true, \"port\": %d}\n", port);
  std::fflush(stdout);

  std::unordered_map<uint64_t, Call> calls;
  std::deque<uint64_t> waiting;  // calls probed and not yet echoed, oldest first
  uint64_t packets_in = 0, probes_sent = 0, echoed = 0;
  uint8_t probe[12 + kPayload];
  for (size_t i = 0; i < kPayload; ++i) probe[12 + i] = pattern(i);

  auto send_probe = [&](Call& c) {
    probe[0] = 0x80;
    probe[1] = c.payload_type;
    probe[2] = static_cast<uint8_t>(c.seq >> 8);
    probe[3] = static_cast<uint8_t>(c.seq);
    ++c.seq;
    c.ts += kPayload;
    const uint32_t nts = htonl(c.ts), nssrc = htonl(kProbeSsrc);
    std::memcpy(probe + 4, &nts, 4);
    std::memcpy(probe + 8, &nssrc, 4);
    sendto(fd, probe, sizeof probe, 0, reinterpret_cast<const sockaddr*>(&c.from), sizeof c.from);
    ++c.probes;
    c.last_probe_ms = now_ms();
    ++probes_sent;
  };

  std::vector<uint8_t> pkt(2048);
  while (!g_stop) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10) > 0) {
      for (;;) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const ssize_t n = recvfrom(fd, pkt.data(), pkt.size(), MSG_DONTWAIT,
                                   reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) break;
        if (n < 12 || (pkt[0] >> 6) != 2) continue;
        ++packets_in;
        const uint8_t pt = pkt[1] & 0x7f;
        if (pt != 0 && pt != 8) continue;  // telephone-event, comfort noise
        uint32_t ssrc;
        std::memcpy(&ssrc, pkt.data() + 8, 4);
        const uint64_t key = (uint64_t{ntohs(from.sin_port)} << 32) | ntohl(ssrc);
        auto [it, fresh] = calls.try_emplace(key);
        Call& c = it->second;
        if (fresh) {
          c.from = from;
          c.payload_type = pt;
          for (int i = 0; i < kFirstProbes; ++i) send_probe(c);
          waiting.push_back(key);
          continue;
        }
        if (c.echoed) continue;
        size_t off = 12 + 4 * (pkt[0] & 0x0f);
        if ((pkt[0] & 0x10) && static_cast<size_t>(n) >= off + 4) {
          off += 4 + 4 * ((size_t{pkt[off + 2]} << 8) | pkt[off + 3]);
        }
        if (static_cast<size_t>(n) < off + kPayload) continue;
        size_t same = 0;
        for (size_t i = 0; i < kPayload; ++i) same += pkt[off + i] == pattern(i);
        if (same >= kPayload * 3 / 4) {
          c.echoed = true;
          ++echoed;
        }
      }
    }
    // Resend to the calls whose echo has not come (oldest first; each at most kMaxProbes).
    const int64_t now = now_ms();
    const size_t pending = waiting.size();
    for (size_t i = 0; i < pending; ++i) {
      const uint64_t key = waiting.front();
      waiting.pop_front();
      Call& c = calls[key];
      if (c.echoed || c.probes >= kMaxProbes) continue;
      if (now - c.last_probe_ms >= kResendMs) send_probe(c);
      waiting.push_back(key);
    }
  }

  std::string missing;
  size_t listed = 0;
  for (const auto& [key, c] : calls) {
    if (c.echoed || listed >= 20) continue;
    if (listed++) missing += ",";
    missing += std::to_string(key >> 32);
  }
  std::printf(
      "{\"calls\": %zu, \"echoed\": %llu, \"probes_sent\": %llu, \"packets_in\": %llu, "
      "\"not_echoed_ports\": [%s]}\n",
      calls.size(), static_cast<unsigned long long>(echoed),
      static_cast<unsigned long long>(probes_sent), static_cast<unsigned long long>(packets_in),
      missing.c_str());
  return 0;
}
