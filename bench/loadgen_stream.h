// What the load generators of stream transports (one TCP connection per session carrying
// 20 ms audio frames: loadgen_audiosocket, loadgen_asp) share: one epoll thread, N sessions
// opened at --setup-rate per second, each sending one frame every 20 ms from absolute
// CLOCK_MONOTONIC deadlines (sessions spread over 20 one-ms slots), reading with kernel
// receive timestamps, and measuring atende's send pacing (|gap between consecutive audio
// frames of a session - 20 ms|), frames per second, atende's CPU and RSS. A protocol
// (StreamProtocol) says only what differs: the greeting, how bytes become messages, the wire
// form of an audio frame, the hang-up.
//
// Phases: [server RSS] -> connect all (each up when the protocol says so) -> settle ->
// [server RSS] -> warm-up -> steady window (statistics, server CPU from /proc/PID/stat) ->
// hang-up on every session, wait for atende to close. One JSON object on stdout.
#pragma once
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
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
#include <map>
#include <string>
#include <vector>

#include "latency_histogram.h"
#include "loadgen_sip.h"

namespace atende::bench {

constexpr int64_t kPtimeNs = 20'000'000;
constexpr int kSlots = 20;
constexpr size_t kMaxMessage = 8192;   // the largest message a protocol reads whole
constexpr size_t kOutCapacity = 4096;  // our bytes waiting for atende to read (~12 frames)

struct StreamOptions {
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
  std::map<std::string, std::string> extra;  // the protocol's own flags (--to, --path ...)
};

// kOpening: connected, the protocol's handshake under way (no audio yet); kUp: audio flows.
enum class State { kIdle, kConnecting, kOpening, kUp, kClosed };

struct Session {
  int fd = -1;
  State state = State::kIdle;
  int slot = 0;
  bool heard = false;    // up: the protocol says the session is running
  bool hung_up = false;  // we sent our hang-up
  bool cut = false;      // atende ended it before our hang-up
  int error_code = -1;   // atende's error code when cut with one
  int stage = 0;         // the protocol's own progress (handshake steps)
  // Receive side.
  std::array<uint8_t, kMaxMessage> in{};
  size_t in_len = 0;
  int64_t last_frame_ns = -1;  // realtime kernel stamp of the previous audio frame
  uint64_t frames_window = 0;
  // Send side (only when the socket would block).
  std::array<uint8_t, kOutCapacity> out{};
  size_t out_len = 0;
};

class StreamLoadGen;

// What differs between stream transports.
class StreamProtocol {
 public:
  virtual ~StreamProtocol() = default;
  virtual const char* mode() const = 0;  // "audiosocket", "asp": the report's mode
  // The TCP connection is up: send the greeting; leave the session kOpening or make it kUp.
  virtual void OnConnected(StreamLoadGen& gen, Session& s, size_t index) = 0;
  // How many bytes to ask the next read for: the rest of the message in hand (one read per
  // message in the steady state, so its receive timestamp is that message's arrival).
  virtual size_t Want(const Session& s) const = 0;
  // s.in holds s.in_len bytes, the newest read at `stamp` (realtime ns): take every whole
  // message off its front (memmove the rest down) and act on it.
  virtual void OnBytes(StreamLoadGen& gen, Session& s, int64_t stamp) = 0;
  // The bytes of one 20 ms audio frame of `pcm` as sent on the wire (built once).
  virtual std::vector<uint8_t> Frame(const std::vector<int16_t>& pcm) const = 0;
  // Our hang-up's bytes (the generator marks the session hung up and writes them).
  virtual std::vector<uint8_t> HangUp() const = 0;
};

class StreamLoadGen {
 public:
  StreamLoadGen(StreamOptions o, StreamProtocol& protocol)
      : opt_(std::move(o)), protocol_(protocol) {}
  int Run();
  const StreamOptions& options() const { return opt_; }

  // ---- for protocols ----
  bool Write(Session& s, const uint8_t* data, size_t len);
  bool Write(Session& s, const std::vector<uint8_t>& bytes) {
    return Write(s, bytes.data(), bytes.size());
  }
  void Close(Session& s);
  // The session runs (counted up); audio may flow both ways from now on.
  void MarkUp(Session& s) {
    s.state = State::kUp;
    if (!s.heard) {
      s.heard = true;
      ++up_;
    }
  }
  // One audio frame of atende's arrived at `stamp`: pacing and counts.
  void AudioFrame(Session& s, int64_t stamp) {
    ++t_.received_all;
    if (!s.heard) MarkUp(s);
    if (recording_) {
      ++t_.received;
      ++s.frames_window;
      // No sequence numbers: every gap should be one period, so a frame atende skipped (a
      // 40 ms gap) or two sent at once (0 ms) both count 20 ms.
      if (s.last_frame_ns >= 0) t_.gap_dev.Add(stamp - s.last_frame_ns - kPtimeNs);
    }
    s.last_frame_ns = stamp;
  }
  // atende stopped sending on purpose (between two responses): the next gap is not pacing.
  void AudioPause(Session& s) { s.last_frame_ns = -1; }
  // atende ended the session (error `code`, -1 for none).
  void Ended(Session& s, int code) {
    if (code >= 0) {
      s.error_code = code;
      if (error_codes_.size() < 20) error_codes_.push_back(code);
    }
    Close(s);
  }
  void BadMessage() { ++t_.bad_messages; }

 private:
  struct Totals {
    uint64_t sent = 0, received = 0, received_all = 0, send_blocked = 0, send_dropped = 0;
    uint64_t bad_messages = 0, no_timestamp = 0;
    Histogram gap_dev;
    Histogram send_late;
  };

  void StartConnect(size_t i);
  void OnEvent(size_t i, uint32_t events);
  void OnReadable(Session& s);
  void Flush(Session& s);
  void PollOnce(int timeout_ms);
  void Report(double wall_s, double server_cpu_s, double self_cpu_s, double host_busy_pct);

  StreamOptions opt_;
  StreamProtocol& protocol_;
  std::vector<Session> sessions_;
  int epfd_ = -1;
  sockaddr_in target_{};
  std::vector<uint8_t> frame_;  // one 20 ms frame on the wire, the same every time
  bool recording_ = false;
  Totals t_;
  int up_ = 0, failed_ = 0, connect_errors_ = 0, cut_ = 0, cut_in_window_ = 0;
  std::vector<int> error_codes_;
  ServerSample rss_before_, rss_idle_;
  double setup_s_ = 0;
};

inline void StreamLoadGen::StartConnect(size_t i) {
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

inline bool StreamLoadGen::Write(Session& s, const uint8_t* data, size_t len) {
  if (s.fd < 0) return false;
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

inline void StreamLoadGen::Flush(Session& s) {
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

inline void StreamLoadGen::Close(Session& s) {
  if (s.fd >= 0) {
    epoll_ctl(epfd_, EPOLL_CTL_DEL, s.fd, nullptr);
    close(s.fd);
    s.fd = -1;
  }
  if (s.heard && !s.hung_up && !s.cut) {
    s.cut = true;
    ++cut_;
    if (recording_) ++cut_in_window_;
  }
  if (s.state == State::kConnecting ||
      ((s.state == State::kOpening || s.state == State::kUp) && !s.heard)) {
    ++failed_;  // never up
  }
  if (s.heard) --up_;
  s.state = State::kClosed;
}

inline void StreamLoadGen::OnEvent(size_t i, uint32_t events) {
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
    s.state = State::kOpening;
    protocol_.OnConnected(*this, s, i);
    if (s.fd >= 0 && s.out_len == 0) Flush(s);  // back to EPOLLIN only
    return;
  }
  if (s.state != State::kUp && s.state != State::kOpening) return;
  if (events & EPOLLOUT) Flush(s);
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) OnReadable(s);
}

inline void StreamLoadGen::OnReadable(Session& s) {
  alignas(cmsghdr) char control[128];
  for (int reads = 0; reads < 64 && s.fd >= 0; ++reads) {
    const size_t want = std::min(protocol_.Want(s), s.in.size() - s.in_len);
    if (want == 0) {
      ++t_.bad_messages;  // a message larger than we take
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
    protocol_.OnBytes(*this, s, stamp);
  }
}

inline void StreamLoadGen::PollOnce(int timeout_ms) {
  epoll_event events[512];
  const int n = epoll_wait(epfd_, events, 512, timeout_ms);
  for (int i = 0; i < n; ++i) {
    const uint64_t key = events[i].data.u64;
    if (key < sessions_.size()) OnEvent(key, events[i].events);
  }
}

inline int StreamLoadGen::Run() {
  RaiseFdLimit();
  auto addr = MakeAddr(opt_.host, opt_.port);
  if (!addr) return 2;
  target_ = *addr;
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  sessions_.resize(static_cast<size_t>(opt_.sessions));

  // One frame's samples, the same every time: "quiet" is noise at about -65 dBFS (below the
  // turn detector's -50 dBFS floor, so no turn ever starts, yet the VAD works on real
  // samples, as with a caller listening to a menu); "tone" a 400 Hz tone at -12 dBFS.
  std::vector<int16_t> pcm(static_cast<size_t>(opt_.rate / 50));
  uint32_t lcg = 12345;
  for (size_t n = 0; n < pcm.size(); ++n) {
    int v = 0;
    if (opt_.payload == "tone") {
      v = static_cast<int>(8000.0 * std::sin(2 * M_PI * 400.0 * n / opt_.rate));
    } else if (opt_.payload == "quiet") {
      lcg = lcg * 1103515245u + 12345u;
      v = static_cast<int>((lcg >> 16) % 65) - 32;
    }
    pcm[n] = static_cast<int16_t>(v);
  }
  frame_ = protocol_.Frame(pcm);

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
    while (next_connect < sessions_.size() &&
           deadline >= start + static_cast<int64_t>(next_connect) * connect_interval) {
      StartConnect(next_connect++);
      if (next_connect == sessions_.size()) all_connected_at = deadline;
    }
    // This slot's frames.
    for (size_t i : by_slot[static_cast<size_t>(tick % kSlots)]) {
      Session& s = sessions_[i];
      if (s.state != State::kUp) continue;
      if (!Write(s, frame_)) {
        Close(s);
        continue;
      }
      if (recording_) {
        t_.send_late.Add(NowNs() - deadline);
        ++t_.sent;
      }
    }
    PollOnce(0);
    if (setup_done_at < 0 && all_connected_at >= 0) {
      const int pending =
          static_cast<int>(std::count_if(sessions_.begin(), sessions_.end(), [](const Session& s) {
            return s.state == State::kConnecting ||
                   ((s.state == State::kUp || s.state == State::kOpening) && !s.heard);
          }));
      const bool timed_out =
          deadline - all_connected_at > static_cast<int64_t>(opt_.setup_timeout * 1e9);
      if (pending == 0 || timed_out) {
        setup_done_at = deadline;
        setup_s_ = static_cast<double>(deadline - start) / 1e9;
        for (Session& s : sessions_) {
          if (s.state != State::kClosed && !s.heard) {
            ++failed_;
            s.state = State::kClosed;  // never up: counted failed, left alone
            if (s.fd >= 0) {
              epoll_ctl(epfd_, EPOLL_CTL_DEL, s.fd, nullptr);
              close(s.fd);
              s.fd = -1;
            }
          }
        }
        std::fprintf(stderr, "loadgen_%s: %d up, %d failed in %.1f s\n", protocol_.mode(), up_,
                     failed_, setup_s_);
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
  const double wall = static_cast<double>(NowNs() - window_start) / 1e9;
  Report(wall, cpu0.ok && cpu1.ok ? cpu1.cpu_s - cpu0.cpu_s : -1, self1 - self0,
         HostBusyPct(host0, host1));

  // Hang up and wait for atende to close each connection.
  const std::vector<uint8_t> hangup = protocol_.HangUp();
  for (Session& s : sessions_) {
    if (s.state != State::kUp) continue;
    s.hung_up = true;
    Write(s, hangup);
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

inline void StreamLoadGen::Report(double wall_s, double server_cpu_s, double self_cpu_s,
                                  double host_busy_pct) {
  const int established = static_cast<int>(
      std::count_if(sessions_.begin(), sessions_.end(), [](const Session& s) { return s.heard; }));
  uint64_t min_frames = UINT64_MAX;
  for (const Session& s : sessions_) {
    if (s.heard && !s.cut) min_frames = std::min(min_frames, s.frames_window);
  }
  if (min_frames == UINT64_MAX) min_frames = 0;
  std::printf("{\"mode\": \"%s\", \"sessions\": %d, \"established\": %d", protocol_.mode(),
              opt_.sessions, established);
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
  std::printf(", \"gap_samples\": %llu", static_cast<unsigned long long>(t_.gap_dev.count()));
  PrintQuantilesMs("jitter", t_.gap_dev);
  PrintQuantilesMs("send_late", t_.send_late);
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

// The command line every stream generator takes; `extra_flags`: the protocol's own
// (--NAME VALUE, kept in StreamOptions::extra). False (usage printed) when it is wrong.
inline bool ParseStreamArgs(int argc, char** argv, StreamOptions& o,
                            const std::vector<std::string>& extra_flags, const char* usage_more) {
  bool have_target = false;
  auto usage = [&] {
    std::fprintf(stderr,
                 "usage: %s --target HOST:PORT --sessions N [--seconds S] [--warmup S]"
                 " [--settle S]\n       [--setup-rate N/s] [--rate 8000|16000]"
                 " [--payload quiet|tone|silence] [--server-pid PID]%s\n",
                 argv[0], usage_more);
    return false;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string value = argv[++i];
    if (arg == "--target") {
      const size_t colon = value.rfind(':');
      if (colon == std::string::npos) return usage();
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
    } else if (arg.rfind("--", 0) == 0 && std::find(extra_flags.begin(), extra_flags.end(),
                                                    arg.substr(2)) != extra_flags.end()) {
      o.extra[arg.substr(2)] = value;
    } else {
      return usage();
    }
  }
  if (!have_target || o.sessions < 1 || o.sessions > 20000 || o.seconds <= 0 || o.seconds > 600 ||
      o.warmup < 0 || o.settle < 0 || (o.rate != 8000 && o.rate != 16000) ||
      (o.payload != "quiet" && o.payload != "tone" && o.payload != "silence")) {
    return usage();
  }
  return true;
}

}  // namespace atende::bench
