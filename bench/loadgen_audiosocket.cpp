// loadgen_audiosocket: N concurrent AudioSocket sessions (docs/audiosocket.md) from one epoll
// thread, each behaving as Asterisk's AudioSocket() application: TCP connect, the UUID
// message first, then one 20 ms signed-linear frame every 20 ms (320 bytes at 8 kHz, type
// 0x10; --rate 16000: 640 bytes, type 0x12), and 0x00 (hang-up) at the end. It reads what
// atende sends back and measures atende's send pacing on each session, as loadgen_echo does
// for RTP.
//
// Sending: every frame from an absolute CLOCK_MONOTONIC deadline (clock_nanosleep
// TIMER_ABSTIME), sessions spread over 20 one-ms slots, so our own sending never drifts and
// the server sees a steady load. A session sends from the moment its UUID is out, as
// Asterisk does. Connections open at --setup-rate per second.
//
// Receiving: each read asks for at most the rest of the message being read (a whole frame
// when none is), so one read is one frame in the steady state, and its kernel receive
// timestamp (SO_TIMESTAMPNS; TCP gives the newest segment's) is that frame's arrival. Per
// session, |gap between consecutive audio frames - 20 ms| is atende's send-pacing jitter
// (AudioSocket has no sequence numbers, so every gap should be one period: a frame atende
// skipped shows as a 40 ms gap, i.e. 20 ms of jitter, and as fewer than 50 frames a second).
//
// Phases: [server RSS] -> connect all (each up when atende's first frame comes) -> settle
// -> [server RSS] -> warm-up -> steady window (statistics, server CPU from /proc/PID/stat)
// -> 0x00 on every session, wait for atende to close. One JSON object on stdout.
//
// Usage:
//   loadgen_audiosocket --target 127.0.0.1:9092 --sessions N [--seconds 10] [--warmup 2]
//                       [--settle 1] [--setup-rate 200] [--rate 8000]
//                       [--payload quiet|tone|silence] [--server-pid PID]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "loadgen_sip.h"

namespace atende::bench {
namespace {

constexpr int64_t kPtimeNs = 20'000'000;
constexpr int kSlots = 20;
constexpr size_t kHeader = 3;
constexpr size_t kMaxMessage = kHeader + 8192;
constexpr size_t kOutCapacity = 4096;  // our frames waiting for atende to read (~12 at 8 kHz)

// Microsecond histogram up to 100 ms plus an exact maximum (as loadgen_echo's).
class Histogram {
 public:
  void Add(int64_t ns) {
    if (ns < 0) ns = -ns;
    max_ns_ = std::max(max_ns_, ns);
    ++bins_[std::min(static_cast<size_t>(ns / 1000), bins_.size() - 1)];
    ++count_;
  }
  uint64_t count() const { return count_; }
  double MaxMs() const { return static_cast<double>(max_ns_) / 1e6; }
  double QuantileMs(double q) const {
    if (count_ == 0) return 0.0;
    uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * count_)));
    uint64_t seen = 0;
    for (size_t i = 0; i < bins_.size(); ++i) {
      seen += bins_[i];
      if (seen >= rank) return std::min(static_cast<double>(i + 1) / 1000.0, MaxMs());
    }
    return MaxMs();
  }

 private:
  std::vector<uint64_t> bins_ = std::vector<uint64_t>(100'001, 0);
  uint64_t count_ = 0;
  int64_t max_ns_ = 0;
};

struct Options {
  std::string host = "127.0.0.1";
  int port = 9092;
  int sessions = 10;
  double seconds = 10;
  double warmup = 2;
  double settle = 1;
  double setup_rate = 200;
  double setup_timeout = 15;  // after the last connect: sessions not up by then failed
  int rate = 8000;
  std::string payload = "quiet";
  int server_pid = 0;
};

enum class State { kIdle, kConnecting, kUp, kClosed };

struct Session {
  int fd = -1;
  State state = State::kIdle;
  int slot = 0;
  bool heard = false;    // atende's first frame came: the leg is running
  bool hung_up = false;  // we sent 0x00
  bool cut = false;      // atende ended it (0x00, 0xff or close) before our hang-up
  int error_code = -1;   // 0xff's code byte when cut with one
  // Receive side.
  std::array<uint8_t, kMaxMessage> in{};
  size_t in_len = 0;
  int64_t last_frame_ns = -1;  // realtime kernel stamp of the previous audio frame
  uint64_t frames_window = 0;
  // Send side (only when the socket would block).
  std::array<uint8_t, kOutCapacity> out{};
  size_t out_len = 0;
};

struct Totals {
  uint64_t sent = 0, received = 0, received_all = 0, send_blocked = 0, send_dropped = 0;
  uint64_t bad_messages = 0, no_timestamp = 0;
  Histogram gap_dev;
  Histogram send_late;
};

class LoadGen {
 public:
  explicit LoadGen(Options o) : opt_(std::move(o)) {}
  int Run();

 private:
  void StartConnect(size_t i);
  void OnEvent(size_t i, uint32_t events);
  void OnReadable(Session& s);
  void OnMessage(Session& s, uint8_t type, const uint8_t* payload, size_t len, int64_t stamp);
  void SendFrame(Session& s);
  bool Write(Session& s, const uint8_t* data, size_t len);
  void Flush(Session& s);
  void Close(Session& s);
  void PollOnce(int timeout_ms);
  void Report(double wall_s, double server_cpu_s, double self_cpu_s, double host_busy_pct);
  int Up() const { return up_; }

  Options opt_;
  std::vector<Session> sessions_;
  int epfd_ = -1;
  sockaddr_in target_{};
  std::vector<uint8_t> frame_;  // header + one 20 ms payload, the same every time
  bool recording_ = false;
  Totals t_;
  int up_ = 0, failed_ = 0, connect_errors_ = 0, cut_ = 0, cut_in_window_ = 0;
  std::vector<int> error_codes_;
  ServerSample rss_before_, rss_idle_;
  double setup_s_ = 0;
  int64_t window_ns_ = 0;
};

void LoadGen::StartConnect(size_t i) {
  Session& s = sessions_[i];
  s.slot = static_cast<int>(i % kSlots);
  s.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) {
    ++connect_errors_;
    s.state = State::kClosed;
    return;
  }
  int one = 1;
  setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(s.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  ev.data.u64 = i;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, s.fd, &ev);
  s.state = State::kConnecting;
  if (connect(s.fd, reinterpret_cast<const sockaddr*>(&target_), sizeof target_) != 0 &&
      errno != EINPROGRESS) {
    ++connect_errors_;
    Close(s);
  }
}

bool LoadGen::Write(Session& s, const uint8_t* data, size_t len) {
  if (s.out_len == 0) {
    const ssize_t n = send(s.fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(len)) return true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    const size_t done = n > 0 ? static_cast<size_t>(n) : 0;
    data += done;
    len -= done;
    ++t_.send_blocked;
  }
  if (s.out.size() - s.out_len < len) {
    ++t_.send_dropped;  // atende is not reading: drop rather than burst later
    return true;
  }
  std::memcpy(s.out.data() + s.out_len, data, len);
  s.out_len += len;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  ev.data.u64 = static_cast<uint64_t>(&s - sessions_.data());
  epoll_ctl(epfd_, EPOLL_CTL_MOD, s.fd, &ev);
  return true;
}

void LoadGen::Flush(Session& s) {
  while (s.out_len > 0) {
    const ssize_t n = send(s.fd, s.out.data(), s.out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n <= 0) return;
    std::memmove(s.out.data(), s.out.data() + n, s.out_len - static_cast<size_t>(n));
    s.out_len -= static_cast<size_t>(n);
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = static_cast<uint64_t>(&s - sessions_.data());
  epoll_ctl(epfd_, EPOLL_CTL_MOD, s.fd, &ev);
}

void LoadGen::Close(Session& s) {
  if (s.fd >= 0) {
    epoll_ctl(epfd_, EPOLL_CTL_DEL, s.fd, nullptr);
    close(s.fd);
    s.fd = -1;
  }
  if (s.state == State::kUp && !s.hung_up) {
    s.cut = true;
    ++cut_;
    if (recording_) ++cut_in_window_;
  }
  if (s.state == State::kConnecting) ++failed_;
  if (s.heard) --up_;
  s.state = State::kClosed;
}

void LoadGen::OnEvent(size_t i, uint32_t events) {
  Session& s = sessions_[i];
  if (s.state == State::kConnecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      ++connect_errors_;
      return Close(s);
    }
    if (!(events & EPOLLOUT)) return;
    // Connected: the UUID first (random, version 4 bits set as a real one has).
    std::array<uint8_t, kHeader + 16> uuid{0x01, 0x00, 0x10};
    if (getrandom(uuid.data() + kHeader, 16, 0) != 16) return Close(s);
    uuid[kHeader + 6] = static_cast<uint8_t>((uuid[kHeader + 6] & 0x0F) | 0x40);
    uuid[kHeader + 8] = static_cast<uint8_t>((uuid[kHeader + 8] & 0x3F) | 0x80);
    s.state = State::kUp;
    if (!Write(s, uuid.data(), uuid.size())) return Close(s);
    if (s.out_len == 0) Flush(s);  // back to EPOLLIN only
    return;
  }
  if (s.state != State::kUp) return;
  if (events & EPOLLOUT) Flush(s);
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) OnReadable(s);
}

void LoadGen::OnReadable(Session& s) {
  alignas(cmsghdr) char control[128];
  for (int reads = 0; reads < 64 && s.fd >= 0; ++reads) {
    // The rest of the message in hand, or one whole frame when none: one read per frame.
    size_t want = frame_.size();
    if (s.in_len >= kHeader) {
      const size_t total = kHeader + (size_t(s.in[1]) << 8 | s.in[2]);
      want = total > s.in_len ? total - s.in_len : 0;
    } else if (s.in_len > 0) {
      want = kHeader - s.in_len;
    }
    want = std::min(want, s.in.size() - s.in_len);
    if (want == 0) {
      ++t_.bad_messages;
      return Close(s);
    }
    iovec iov{s.in.data() + s.in_len, want};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = recvmsg(s.fd, &msg, MSG_DONTWAIT);
    if (n == 0) return Close(s);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      return Close(s);
    }
    int64_t stamp = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        stamp = int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
      }
    }
    if (stamp < 0) {
      ++t_.no_timestamp;
      stamp = RealtimeNs();
    }
    s.in_len += static_cast<size_t>(n);
    while (s.in_len >= kHeader) {
      const size_t len = size_t(s.in[1]) << 8 | s.in[2];
      if (s.in_len < kHeader + len) break;
      OnMessage(s, s.in[0], s.in.data() + kHeader, len, stamp);
      if (s.fd < 0) return;
      std::memmove(s.in.data(), s.in.data() + kHeader + len, s.in_len - kHeader - len);
      s.in_len -= kHeader + len;
    }
  }
}

void LoadGen::OnMessage(Session& s, uint8_t type, const uint8_t* payload, size_t len,
                        int64_t stamp) {
  if (type >= 0x10 && type <= 0x18) {
    ++t_.received_all;
    if (!s.heard) {
      s.heard = true;
      ++up_;
    }
    if (recording_) {
      ++t_.received;
      ++s.frames_window;
      if (s.last_frame_ns >= 0) {
        // No sequence numbers here: every gap should be one period, so a frame atende
        // skipped (a 40 ms gap) or two sent at once (0 ms) both count 20 ms.
        t_.gap_dev.Add(stamp - s.last_frame_ns - kPtimeNs);
      }
    }
    s.last_frame_ns = stamp;
    return;
  }
  if (type == 0x00 || type == 0xff) {
    if (type == 0xff && len > 0) {
      s.error_code = payload[0];
      if (error_codes_.size() < 20) error_codes_.push_back(payload[0]);
    }
    Close(s);
    return;
  }
  if (type != 0x03) ++t_.bad_messages;  // DTMF from atende is possible; the rest is not
}

void LoadGen::SendFrame(Session& s) {
  if (!Write(s, frame_.data(), frame_.size())) Close(s);
}

void LoadGen::PollOnce(int timeout_ms) {
  epoll_event events[512];
  const int n = epoll_wait(epfd_, events, 512, timeout_ms);
  for (int i = 0; i < n; ++i) {
    const uint64_t key = events[i].data.u64;
    if (key < sessions_.size()) OnEvent(key, events[i].events);
  }
}

int LoadGen::Run() {
  RaiseFdLimit();
  auto addr = MakeAddr(opt_.host, opt_.port);
  if (!addr) return 2;
  target_ = *addr;
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  sessions_.resize(static_cast<size_t>(opt_.sessions));

  // One frame's payload, the same every time: "quiet" is noise at about -65 dBFS (below the
  // turn detector's -50 dBFS floor, so no turn ever starts, yet the VAD works on real
  // samples, as with a caller listening to a menu); "tone" a 400 Hz tone at -12 dBFS.
  const size_t samples = static_cast<size_t>(opt_.rate / 50);
  frame_.resize(kHeader + 2 * samples);
  frame_[0] = opt_.rate == 16000 ? 0x12 : 0x10;
  frame_[1] = static_cast<uint8_t>((2 * samples) >> 8);
  frame_[2] = static_cast<uint8_t>(2 * samples);
  uint32_t lcg = 12345;
  for (size_t n = 0; n < samples; ++n) {
    int v = 0;
    if (opt_.payload == "tone") {
      v = static_cast<int>(8000.0 * std::sin(2 * M_PI * 400.0 * n / opt_.rate));
    } else if (opt_.payload == "quiet") {
      lcg = lcg * 1103515245u + 12345u;
      v = static_cast<int>((lcg >> 16) % 65) - 32;
    }
    frame_[kHeader + 2 * n] = static_cast<uint8_t>(uint16_t(v) & 0xff);
    frame_[kHeader + 2 * n + 1] = static_cast<uint8_t>(uint16_t(v) >> 8);
  }

  rss_before_ = SampleServer(opt_.server_pid);
  const int64_t slot_ns = kPtimeNs / kSlots;
  const int64_t start = NowNs() + 5'000'000;
  const int64_t connect_interval = static_cast<int64_t>(1e9 / std::max(1.0, opt_.setup_rate));
  size_t next_connect = 0;
  int64_t all_connected_at = -1;  // when the last connect started
  int64_t setup_done_at = -1;
  int64_t window_start = -1, window_end = -1;
  ServerSample cpu0;
  HostCpu host0;
  double self0 = 0;
  std::vector<std::vector<size_t>> by_slot(kSlots);
  for (size_t i = 0; i < sessions_.size(); ++i) by_slot[i % kSlots].push_back(i);

  for (int64_t tick = 0;; ++tick) {
    const int64_t deadline = start + tick * slot_ns;
    SleepUntilNs(deadline);
    // New connections due by now.
    while (next_connect < sessions_.size() &&
           deadline >= start + static_cast<int64_t>(next_connect) * connect_interval) {
      StartConnect(next_connect++);
      if (next_connect == sessions_.size()) all_connected_at = deadline;
    }
    // This slot's frames.
    for (size_t i : by_slot[static_cast<size_t>(tick % kSlots)]) {
      Session& s = sessions_[i];
      if (s.state != State::kUp) continue;
      SendFrame(s);
      if (recording_) {
        t_.send_late.Add(NowNs() - deadline);
        ++t_.sent;
      }
    }
    PollOnce(0);
    // Phases.
    if (setup_done_at < 0 && all_connected_at >= 0) {
      const int pending =
          static_cast<int>(std::count_if(sessions_.begin(), sessions_.end(), [](const Session& s) {
            return s.state == State::kUp && !s.heard;
          }));
      const int connecting =
          static_cast<int>(std::count_if(sessions_.begin(), sessions_.end(), [](const Session& s) {
            return s.state == State::kConnecting;
          }));
      const bool timed_out =
          deadline - all_connected_at > static_cast<int64_t>(opt_.setup_timeout * 1e9);
      if ((pending == 0 && connecting == 0) || timed_out) {
        setup_done_at = deadline;
        setup_s_ = static_cast<double>(deadline - start) / 1e9;
        for (Session& s : sessions_) {
          if (s.state != State::kClosed && !s.heard) {
            ++failed_;
            s.state = State::kClosed;  // never heard from atende: counted failed, left alone
            if (s.fd >= 0) {
              epoll_ctl(epfd_, EPOLL_CTL_DEL, s.fd, nullptr);
              close(s.fd);
              s.fd = -1;
            }
          }
        }
        std::fprintf(stderr, "loadgen_audiosocket: %d up, %d failed in %.1f s\n", up_, failed_,
                     setup_s_);
        window_start = deadline + static_cast<int64_t>((opt_.settle + opt_.warmup) * 1e9);
        window_end = window_start + static_cast<int64_t>(opt_.seconds * 1e9);
      }
    }
    if (setup_done_at >= 0 && !rss_idle_.ok &&
        deadline >= setup_done_at + static_cast<int64_t>(opt_.settle * 1e9)) {
      rss_idle_ = SampleServer(opt_.server_pid);
    }
    if (window_start >= 0 && !recording_ && deadline >= window_start && deadline < window_end) {
      recording_ = true;
      cpu0 = SampleServer(opt_.server_pid);
      host0 = SampleHostCpu();
      self0 = SelfCpuS();
      window_start = deadline;
    }
    if (window_end >= 0 && deadline >= window_end) break;
  }
  // Frames in flight at the end of the window still count.
  const int64_t drain_until = NowNs() + 30'000'000;
  while (NowNs() < drain_until) PollOnce(5);
  recording_ = false;
  const ServerSample cpu1 = SampleServer(opt_.server_pid);
  const HostCpu host1 = SampleHostCpu();
  const double self1 = SelfCpuS();
  window_ns_ = NowNs() - window_start;
  const double wall = static_cast<double>(window_ns_) / 1e9;
  Report(wall, cpu0.ok && cpu1.ok ? cpu1.cpu_s - cpu0.cpu_s : -1, self1 - self0,
         HostBusyPct(host0, host1));

  // Hang up (0x00) and wait for atende to close each connection.
  const std::array<uint8_t, kHeader> hangup{0x00, 0x00, 0x00};
  for (Session& s : sessions_) {
    if (s.state != State::kUp) continue;
    s.hung_up = true;
    Write(s, hangup.data(), hangup.size());
  }
  const int64_t limit = NowNs() + 5'000'000'000;
  while (NowNs() < limit && std::any_of(sessions_.begin(), sessions_.end(),
                                        [](const Session& s) { return s.fd >= 0; })) {
    PollOnce(20);
  }
  for (Session& s : sessions_) {
    if (s.fd >= 0) close(s.fd);
  }
  close(epfd_);
  return 0;
}

void LoadGen::Report(double wall_s, double server_cpu_s, double self_cpu_s, double host_busy_pct) {
  const int established = static_cast<int>(
      std::count_if(sessions_.begin(), sessions_.end(), [](const Session& s) { return s.heard; }));
  uint64_t min_frames = UINT64_MAX;
  for (const Session& s : sessions_) {
    if (s.heard && !s.cut) min_frames = std::min(min_frames, s.frames_window);
  }
  if (min_frames == UINT64_MAX) min_frames = 0;
  std::printf("{\"mode\": \"audiosocket\", \"sessions\": %d, \"established\": %d", opt_.sessions,
              established);
  std::printf(", \"failed\": %d, \"connect_errors\": %d, \"cut\": %d, \"cut_in_window\": %d",
              failed_, connect_errors_, cut_, cut_in_window_);
  std::printf(", \"error_codes\": [");
  for (size_t i = 0; i < error_codes_.size(); ++i) {
    std::printf("%s%d", i ? ", " : "", error_codes_[i]);
  }
  std::printf("], \"setup_s\": %.2f, \"rate\": %d, \"payload\": \"%s\"", setup_s_, opt_.rate,
              opt_.payload.c_str());
  std::printf(", \"window_s\": %.3f, \"frames_sent\": %llu, \"frames_received\": %llu", wall_s,
              static_cast<unsigned long long>(t_.sent),
              static_cast<unsigned long long>(t_.received));
  // Per second of the nominal window: the frames recorded are those that arrived in it (and
  // in the short drain after it, which only catches what was in flight at its end).
  std::printf(", \"frames_per_s_per_session\": %.2f, \"min_frames_per_s_session\": %.2f",
              established ? t_.received / opt_.seconds / established : 0.0,
              min_frames / opt_.seconds);
  std::printf(
      ", \"send_blocked\": %llu, \"send_dropped\": %llu, \"bad_messages\": %llu"
      ", \"no_timestamp\": %llu",
      static_cast<unsigned long long>(t_.send_blocked),
      static_cast<unsigned long long>(t_.send_dropped),
      static_cast<unsigned long long>(t_.bad_messages),
      static_cast<unsigned long long>(t_.no_timestamp));
  std::printf(
      ", \"gap_samples\": %llu, \"jitter_p50_ms\": %.3f, \"jitter_p99_ms\": %.3f"
      ", \"jitter_max_ms\": %.3f",
      static_cast<unsigned long long>(t_.gap_dev.count()), t_.gap_dev.QuantileMs(0.5),
      t_.gap_dev.QuantileMs(0.99), t_.gap_dev.MaxMs());
  std::printf(
      ", \"send_late_p50_ms\": %.3f, \"send_late_p99_ms\": %.3f, \"send_late_max_ms\": %.3f",
      t_.send_late.QuantileMs(0.5), t_.send_late.QuantileMs(0.99), t_.send_late.MaxMs());
  std::printf(", \"loadgen_cpu_pct\": %.1f", 100.0 * self_cpu_s / wall_s);
  if (host_busy_pct >= 0) std::printf(", \"host_busy_pct\": %.1f", host_busy_pct);
  if (server_cpu_s >= 0) {
    const uint64_t handled = t_.sent + t_.received;
    std::printf(", \"server_cpu_pct\": %.1f, \"server_cpu_us_per_frame\": %.3f",
                100.0 * server_cpu_s / wall_s,
                handled ? 1e6 * server_cpu_s / static_cast<double>(handled) : 0.0);
  }
  if (rss_before_.ok && rss_idle_.ok && established > 0) {
    std::printf(
        ", \"server_rss_before_kb\": %lld, \"server_rss_idle_kb\": %lld"
        ", \"rss_kb_per_session\": %.1f",
        static_cast<long long>(rss_before_.rss_bytes / 1024),
        static_cast<long long>(rss_idle_.rss_bytes / 1024),
        static_cast<double>(rss_idle_.rss_bytes - rss_before_.rss_bytes) / 1024.0 / established);
  }
  std::printf("}\n");
  std::fflush(stdout);
}

int Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s --target HOST:PORT --sessions N [--seconds S] [--warmup S]"
               " [--settle S]\n       [--setup-rate N/s] [--rate 8000|16000]"
               " [--payload quiet|tone|silence] [--server-pid PID]\n",
               argv0);
  return 2;
}

}  // namespace
}  // namespace atende::bench

int main(int argc, char** argv) {
  using namespace atende::bench;
  Options o;
  bool have_target = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return Usage(argv[0]);
    const std::string value = argv[++i];
    if (arg == "--target") {
      const size_t colon = value.rfind(':');
      if (colon == std::string::npos) return Usage(argv[0]);
      o.host = value.substr(0, colon);
      o.port = std::atoi(value.c_str() + colon + 1);
      have_target = o.port > 0 && o.port < 65536;
    } else if (arg == "--sessions") {
      o.sessions = std::atoi(value.c_str());
    } else if (arg == "--seconds") {
      o.seconds = std::atof(value.c_str());
    } else if (arg == "--warmup") {
      o.warmup = std::atof(value.c_str());
    } else if (arg == "--settle") {
      o.settle = std::atof(value.c_str());
    } else if (arg == "--setup-rate") {
      o.setup_rate = std::atof(value.c_str());
    } else if (arg == "--rate") {
      o.rate = std::atoi(value.c_str());
    } else if (arg == "--payload") {
      o.payload = value;
    } else if (arg == "--server-pid") {
      o.server_pid = std::atoi(value.c_str());
    } else {
      return Usage(argv[0]);
    }
  }
  if (!have_target || o.sessions < 1 || o.sessions > 20000 || o.seconds <= 0 || o.seconds > 600 ||
      o.warmup < 0 || o.settle < 0 || (o.rate != 8000 && o.rate != 16000) ||
      (o.payload != "quiet" && o.payload != "tone" && o.payload != "silence")) {
    return Usage(argv[0]);
  }
  return LoadGen(o).Run();
}
