// loadgen_timed_echo: an RTP echo on one UDP port that also times what it receives. The far end
// of atende's dialled legs in bench/bridge_load.py: SIPp answers the calls (SIP only) with an
// SDP naming this port, so every dialled leg sends here, and this measures atende's send
// pacing on those legs the way loadgen_echo does on the callers' legs: per sender (source
// address and port), the deviation of each inter-arrival gap from 20 ms x (RTP sequence
// step), from kernel receive timestamps (SO_TIMESTAMPNS), so how late this thread reads does
// not matter.
//
// Each sample (receive time, deviation) goes into a preallocated array (no allocation while
// running); on SIGINT/SIGTERM the samples are written to --out as pairs of little-endian
// int64 (CLOCK_REALTIME ns, deviation ns), so the caller can keep only its steady window.
//
// An echo sends on our clock: each packet goes back the moment it arrives, so atende's
// dialled leg, which follows its sender's phase (media/read_phase.h), chases its own
// packets (it rests after futile moves, but still moves now and then, and each move is a
// gap of a few ms in what it sends). A phone sends on its own clock. --own-clock does that:
// per sender, the newest packet received is sent back every 20 ms from a schedule of its own
// (started 10 ms after that sender's first packet, paced from CLOCK_MONOTONIC), so the far
// end's phase is independent of atende's sends, as a phone's is.
//
// Usage: loadgen_timed_echo --port P [--host 127.0.0.1] --out FILE [--max-samples N]
//                           [--own-clock 1]
// Prints "ready HOST PORT" once bound, "echoed N samples M" at the end.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

constexpr int64_t kPtimeNs = 20'000'000;

struct Sender {
  int64_t last_ns = -1;
  uint16_t last_seq = 0;
  // --own-clock: the newest packet, where it came from, and when it is sent next.
  sockaddr_in from{};
  char packet[512];
  size_t packet_len = 0;
  bool fresh = false;  // received since the last send
  int64_t next_send_ns = 0;
};

int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Sample {
  int64_t at_ns;
  int64_t deviation_ns;
};

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", out;
  int port = 0;
  size_t max_samples = 4'000'000;  // 64 MB: 40 s of 100,000 packets/s
  bool own_clock = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--host") {
      host = value;
    } else if (key == "--port") {
      port = std::atoi(value.c_str());
    } else if (key == "--out") {
      out = value;
    } else if (key == "--max-samples") {
      max_samples = std::strtoull(value.c_str(), nullptr, 10);
    } else if (key == "--own-clock") {
      own_clock = value != "0";
    } else {
      port = 0;
      break;
    }
  }
  if (port <= 0 || port > 65535 || out.empty()) {
    std::fprintf(stderr,
                 "usage: %s --port P [--host IP] --out FILE [--max-samples N] [--own-clock 1]\n",
                 argv[0]);
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;  // no SA_RESTART: recvmsg returns EINTR and the loop ends
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int on = 1, rcvbuf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::fprintf(stderr, "loadgen_timed_echo: bind %s:%d: %s\n", host.c_str(), port,
                 std::strerror(errno));
    return 1;
  }
  std::vector<Sample> samples;
  samples.reserve(max_samples);
  std::unordered_map<uint64_t, Sender> senders;  // grows once per new leg, not per packet
  senders.reserve(8192);
  std::vector<Sender*> schedule;  // --own-clock: every sender, in arrival order
  schedule.reserve(8192);
  std::printf("ready %s %d\n", host.c_str(), port);
  std::fflush(stdout);

  uint64_t echoed = 0;
  alignas(8) char buffer[2048];
  alignas(8) char control[256];
  while (!g_stop) {
    if (own_clock) {
      // Send what is due, then wait for a packet or the next send, whichever comes first.
      const int64_t now = monotonic_ns();
      int64_t next_due = now + 20'000'000;
      for (Sender* s : schedule) {
        if (s->next_send_ns <= now) {
          if (s->fresh && sendto(fd, s->packet, s->packet_len, 0,
                                 reinterpret_cast<sockaddr*>(&s->from), sizeof s->from) > 0) {
            ++echoed;
          }
          s->fresh = false;
          s->next_send_ns += 20'000'000;
          if (s->next_send_ns <= now) s->next_send_ns = now + 20'000'000;  // fell behind
        }
        next_due = std::min(next_due, s->next_send_ns);
      }
      pollfd pfd{fd, POLLIN, 0};
      const int64_t wait_ms = (next_due - monotonic_ns() + 999'999) / 1'000'000;
      if (poll(&pfd, 1, int(std::max<int64_t>(0, wait_ms))) <= 0) continue;
    }
    sockaddr_in from{};
    iovec iov{buffer, sizeof buffer};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t len = recvmsg(fd, &msg, own_clock ? MSG_DONTWAIT : 0);
    if (len < 0) continue;  // EINTR on stop
    if (!own_clock && sendto(fd, buffer, static_cast<size_t>(len), 0,
                             reinterpret_cast<sockaddr*>(&from), msg.msg_namelen) == len) {
      ++echoed;
    }
    if (len < 12 || (static_cast<uint8_t>(buffer[0]) >> 6) != 2) continue;  // not RTP
    int64_t at_ns = -1;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
        at_ns = int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
      }
    }
    if (at_ns < 0) continue;
    const uint16_t seq = static_cast<uint16_t>((uint8_t(buffer[2]) << 8) | uint8_t(buffer[3]));
    const uint64_t key = (uint64_t(from.sin_addr.s_addr) << 16) | ntohs(from.sin_port);
    Sender& s = senders[key];
    if (own_clock && size_t(len) <= sizeof s.packet) {
      if (s.last_ns < 0 && s.next_send_ns == 0) {
        s.next_send_ns = monotonic_ns() + 10'000'000;
        schedule.push_back(&s);  // unordered_map keeps element addresses stable
      }
      s.from = from;
      std::memcpy(s.packet, buffer, size_t(len));
      s.packet_len = size_t(len);
      s.fresh = true;
    }
    const uint16_t step = static_cast<uint16_t>(seq - s.last_seq);
    // A first packet, a reordered one or a big gap (a new stream on a reused port): no sample.
    if (s.last_ns >= 0 && step > 0 && step < 50 && samples.size() < max_samples) {
      const int64_t deviation = (at_ns - s.last_ns) - kPtimeNs * step;
      samples.push_back({at_ns, deviation < 0 ? -deviation : deviation});
    }
    s.last_ns = at_ns;
    s.last_seq = seq;
  }
  FILE* f = std::fopen(out.c_str(), "wb");
  if (!f || std::fwrite(samples.data(), sizeof(Sample), samples.size(), f) != samples.size()) {
    std::fprintf(stderr, "loadgen_timed_echo: writing %s: %s\n", out.c_str(), std::strerror(errno));
    return 1;
  }
  std::fclose(f);
  std::printf("echoed %llu samples %zu\n", static_cast<unsigned long long>(echoed), samples.size());
  close(fd);
  return 0;
}
