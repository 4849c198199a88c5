// Pieces a load generator needs to be a minimal SIP phone on 127.0.0.1: clocks, server
// CPU/RSS from /proc, UDP sockets, bounds-checked reading of the server's SIP messages and
// SDP answer, G.711 u-law. Header-only, nothing of atende linked (the generators are peers).
// Used by loadgen_echo.cpp and loadgen_agent.cpp; their calls' SIP is in loadgen_sip_calls.h.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atende::bench {

inline int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

inline int64_t RealtimeNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

inline void SleepUntilNs(int64_t deadline) {
  timespec ts{static_cast<time_t>(deadline / 1'000'000'000),
              static_cast<long>(deadline % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

struct ServerSample {
  double cpu_s = 0;
  int64_t rss_bytes = 0;
  bool ok = false;
};

// utime+stime (all threads) and RSS of a process from /proc/PID/stat.
inline ServerSample SampleServer(int pid) {
  ServerSample s;
  if (pid <= 0) return s;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = std::fopen(path, "r");
  if (!f) return s;
  char buf[2048];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // The command name may contain spaces and ')': fields restart after the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (!p) return s;
  unsigned long long utime = 0, stime = 0;
  long long rss_pages = 0;
  if (std::sscanf(p + 2,
                  "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d "
                  "%*d %*u %*u %lld",
                  &utime, &stime, &rss_pages) != 3) {
    return s;
  }
  s.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  s.rss_bytes = rss_pages * sysconf(_SC_PAGESIZE);
  s.ok = true;
  return s;
}

// The whole machine's CPU time from /proc/stat's first line, in clock ticks: busy (everything
// but idle and iowait) and total. Two samples give how busy the box was in between.
struct HostCpu {
  unsigned long long busy = 0, total = 0;
  bool ok = false;
};

inline HostCpu SampleHostCpu() {
  HostCpu h;
  FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return h;
  unsigned long long v[8] = {};
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                            &v[3], &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n < 5) return h;
  for (unsigned long long x : v) h.total += x;
  h.busy = h.total - v[3] - v[4];  // idle, iowait
  h.ok = true;
  return h;
}

// Busy share of all CPUs between two samples, in % (100 = every core busy); -1 if unknown.
inline double HostBusyPct(const HostCpu& a, const HostCpu& b) {
  if (!a.ok || !b.ok || b.total <= a.total) return -1;
  return 100.0 * static_cast<double>(b.busy - a.busy) / static_cast<double>(b.total - a.total);
}

inline double SelfCpuS() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

inline void RaiseFdLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

// A non-blocking UDP socket on 127.0.0.1 (any port) with kernel receive timestamps.
inline int BindUdp(int rcvbuf) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  return fd;
}

// Adds fd to epfd for reading; its events carry `key` (a generator's index of the socket).
inline void WatchReadable(int epfd, int fd, uint64_t key) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = key;
  epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

inline int LocalPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

inline std::optional<sockaddr_in> MakeAddr(std::string_view host, int port) {
  if (port <= 0 || port > 65535 || host.size() >= INET_ADDRSTRLEN) return std::nullopt;
  char text[INET_ADDRSTRLEN] = {};
  std::memcpy(text, host.data(), host.size());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, text, &addr.sin_addr) != 1) return std::nullopt;
  return addr;
}

// ---- minimal SIP text handling (the server's messages are parsed with bounds checks) ----

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

inline bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

struct SipMessage {
  int status = 0;  // 0 for a request
  std::string_view method;
  std::string_view cseq;         // whole CSeq value
  std::string_view cseq_method;  // its method
  std::string_view call_id, from, to, contact;
  std::vector<std::string_view> vias;
  std::string_view body;
};

inline bool ParseSip(std::string_view text, SipMessage& m) {
  size_t head_end = text.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return false;
  m.body = text.substr(head_end + 4);
  std::string_view head = text.substr(0, head_end);
  size_t eol = head.find("\r\n");
  std::string_view first = head.substr(0, eol);
  if (first.substr(0, 8) == "SIP/2.0 ") {
    if (first.size() < 11) return false;
    int code = 0;
    for (int i = 8; i < 11; ++i) {
      if (first[i] < '0' || first[i] > '9') return false;
      code = code * 10 + (first[i] - '0');
    }
    m.status = code;
  } else {
    size_t sp = first.find(' ');
    if (sp == std::string_view::npos || sp == 0) return false;
    m.method = first.substr(0, sp);
  }
  while (eol != std::string_view::npos) {
    size_t start = eol + 2;
    eol = head.find("\r\n", start);
    std::string_view line =
        head.substr(start, eol == std::string_view::npos ? head.npos : eol - start);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = Trim(line.substr(0, colon));
    std::string_view value = Trim(line.substr(colon + 1));
    if (IEquals(name, "Call-ID") || IEquals(name, "i")) {
      m.call_id = value;
    } else if (IEquals(name, "From") || IEquals(name, "f")) {
      m.from = value;
    } else if (IEquals(name, "To") || IEquals(name, "t")) {
      m.to = value;
    } else if (IEquals(name, "Contact") || IEquals(name, "m")) {
      if (m.contact.empty()) m.contact = value;
    } else if (IEquals(name, "Via") || IEquals(name, "v")) {
      if (m.vias.size() < 16) m.vias.push_back(value);
    } else if (IEquals(name, "CSeq")) {
      m.cseq = value;
      size_t sp = value.rfind(' ');
      m.cseq_method = Trim(sp == std::string_view::npos ? value : value.substr(sp + 1));
    }
  }
  return !m.call_id.empty();
}

// The URI inside <...> of a Contact, or empty.
inline std::string_view AngleUri(std::string_view v) {
  size_t lt = v.find('<');
  size_t gt = v.find('>', lt == v.npos ? 0 : lt);
  if (lt == v.npos || gt == v.npos || gt <= lt + 1) return {};
  return v.substr(lt + 1, gt - lt - 1);
}

// (address, port) of the first audio m= line and the c= line before or within it.
inline std::optional<sockaddr_in> SdpAudioAddr(std::string_view body) {
  std::string_view conn;
  int port = -1;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    std::string_view line = Trim(body.substr(pos, end == body.npos ? body.npos : end - pos));
    pos = end == body.npos ? body.size() : end + 1;
    if (line.substr(0, 9) == "c=IN IP4 ") {
      if (port < 0 || conn.empty()) conn = Trim(line.substr(9));
    } else if (line.substr(0, 8) == "m=audio " && port < 0) {
      std::string_view rest = line.substr(8);
      int value = 0;
      size_t i = 0;
      for (; i < rest.size() && i < 6 && rest[i] >= '0' && rest[i] <= '9'; ++i) {
        value = value * 10 + (rest[i] - '0');
      }
      if (i == 0) return std::nullopt;
      port = value;
    }
  }
  if (port <= 0 || conn.empty()) return std::nullopt;
  size_t slash = conn.find('/');
  return MakeAddr(conn.substr(0, slash), port);
}

// ---- G.711 u-law (ITU-T G.711) ----

inline uint8_t LinearToUlaw(int sample) {
  const int sign = sample < 0 ? 0x80 : 0;
  int mag = std::min(std::abs(sample), 32635) + 0x84;
  int exponent = 7;
  for (int mask = 0x4000; (mag & mask) == 0 && exponent > 0; mask >>= 1) --exponent;
  const int mantissa = (mag >> (exponent + 3)) & 0x0F;
  return static_cast<uint8_t>(~(sign | (exponent << 4) | mantissa));
}

inline int UlawToLinear(uint8_t code) {
  code = static_cast<uint8_t>(~code);
  const int exponent = (code >> 4) & 0x07;
  const int mantissa = code & 0x0F;
  const int mag = ((mantissa << 3) + 0x84) << exponent;
  return (code & 0x80) ? 0x84 - mag : mag - 0x84;
}

}  // namespace atende::bench
