// loadgen_agent: N concurrent callers that talk to an agent persona, from one epoll thread.
//
// Each call: the minimal raw SIP UAC of loadgen_sip_calls.h (INVITE with a PCMU offer, ACK, BYE;
// the From user is "lg<index>" so the server's call record can be matched), then RTP every 20 ms
// from absolute CLOCK_MONOTONIC deadlines (calls spread over 20 one-ms slots). The caller
// waits until the agent has spoken and gone quiet (`--gap-ms`), says the utterance (a
// 8 kHz mono 16-bit WAV, sent as u-law), then sends silence and waits for the answer;
// once the answer has played and the agent is quiet again, it speaks again, `--turns`
// times, then hangs up. It never speaks over the agent (no barge-in).
//
// Per turn it records, on CLOCK_MONOTONIC (the clock atende's media, Python's
// time.monotonic() and this program share):
//   speech_end_ns  when the last loud frame of the utterance was sent;
//   answer_ns      kernel receive time of the first loud RTP packet after that (the first
//                  audio of the answer as the caller gets it), or 0 if none came within
//                  `--answer-timeout` seconds.
// Loud = mean |sample| of the decoded packet above `--loud` (G.711 silence decodes to ~0).
//
// Also: server CPU (utime+stime from /proc) from the first INVITE to the first BYE, server
// RSS before any call, after all calls are set up and have heard the greeting, and its peak;
// this generator's own CPU and send lateness. One JSON object on stdout; progress on stderr.
//
// Usage:
//   loadgen_agent --sip 127.0.0.1:5060 --speech said.wav [--service sales] [--calls N]
//                 [--turns K] [--gap-ms 800] [--loud 300] [--answer-timeout 10]
//                 [--setup-rate 50] [--max-seconds 300] [--server-pid PID]
#include <sys/epoll.h>

#include <array>
#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "loadgen_sip.h"
#include "loadgen_sip_calls.h"

namespace atende::bench {
namespace {

constexpr int64_t kPtimeNs = 20'000'000;
constexpr int kSlots = 20;
constexpr size_t kFrameSamples = 160;  // 20 ms at 8 kHz
constexpr size_t kRtpHeaderBytes = 12;
constexpr size_t kMaxDatagram = 4096;  // anything longer is truncated and ignored

struct Options {
  std::string host = "127.0.0.1";
  int port = 5060;
  std::string service = "sales";
  std::string speech_path;
  int calls = 10;
  int turns = 5;
  double gap_ms = 800;
  double loud = 300;
  double answer_timeout_s = 10;
  double setup_rate = 50;
  double max_seconds = 300;
  int server_pid = 0;
};

// Where the caller is in the conversation, while its dialog is established.
enum class Talk { kListening, kSpeaking, kAwaiting };

struct Turn {
  int64_t speech_end_ns = 0;
  int64_t answer_ns = 0;
};

// What rides on call i besides its dialog (SipCalls::dialog(i)).
struct Call {
  int fd = -1;
  sockaddr_in media{};
  int slot = 0;
  uint16_t seq = 0;
  uint32_t ts = 0;
  // Conversation.
  Talk talk = Talk::kListening;
  bool heard_agent = false;    // loud audio since we last spoke
  int64_t last_loud_ns = 0;    // last loud packet from the agent
  int64_t state_since_ns = 0;  // when `talk` last changed (or the call came up)
  size_t frame = 0;            // next utterance frame while speaking
  std::vector<Turn> turns;
  bool greeted = false;  // heard the greeting to its end
  bool server_hung_up = false;
};

std::vector<int16_t> ReadWav8k(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), {});
  // RIFF chunks after the 12-byte header; take "fmt " (8 kHz mono 16-bit) and "data".
  size_t pos = 12;
  bool fmt_ok = false;
  while (bytes.size() >= 12 && pos + 8 <= bytes.size()) {
    uint32_t len = 0;
    std::memcpy(&len, &bytes[pos + 4], 4);
    const std::string id(&bytes[pos], 4);
    const size_t body = pos + 8;
    if (len > bytes.size() - body) len = static_cast<uint32_t>(bytes.size() - body);
    if (id == "fmt " && len >= 16) {
      uint16_t format = 0, channels = 0, bits = 0;
      uint32_t rate = 0;
      std::memcpy(&format, &bytes[body], 2);
      std::memcpy(&channels, &bytes[body + 2], 2);
      std::memcpy(&rate, &bytes[body + 4], 4);
      std::memcpy(&bits, &bytes[body + 14], 2);
      fmt_ok = format == 1 && channels == 1 && rate == 8000 && bits == 16;
    } else if (id == "data" && fmt_ok) {
      std::vector<int16_t> pcm(len / 2);
      std::memcpy(pcm.data(), &bytes[body], pcm.size() * 2);
      return pcm;
    }
    pos = body + len + (len & 1);
  }
  return {};
}

class LoadGen {
 public:
  explicit LoadGen(Options o) : opt_(std::move(o)) {}
  int Run();

 private:
  bool Open();
  void SendInvite(size_t i);
  void OnSipEvent(const SipEvent& e);
  void OnRtp(size_t i, int64_t mono_minus_real);
  void Poll(int timeout_ms);
  void Converse(size_t i, int64_t now);
  void SendFrame(Call& c, const uint8_t* payload);
  void Report(double window_s, double server_cpu_s, double self_cpu_s);
  bool Talking(size_t i) const { return sip_.dialog(i).state == DialogState::kEstablished; }

  Options opt_;
  std::vector<Call> calls_;
  std::vector<std::array<uint8_t, kFrameSamples>> utterance_;  // u-law frames
  size_t last_loud_frame_ = 0;
  std::array<uint8_t, kFrameSamples> silence_{};
  int epfd_ = -1;
  SipCalls sip_;
  int answer_timeouts_ = 0;
  int64_t late_max_ns_ = 0;
  std::vector<int64_t> late_samples_;
  ServerSample rss_before_, rss_greeted_;
  int64_t rss_peak_bytes_ = 0;
  double setup_s_ = 0;
};

bool LoadGen::Open() {
  auto pcm = ReadWav8k(opt_.speech_path);
  if (pcm.size() < kFrameSamples) {
    std::fprintf(stderr, "loadgen: %s is not an 8 kHz mono 16-bit WAV with speech\n",
                 opt_.speech_path.c_str());
    return false;
  }
  for (size_t i = 0; i + kFrameSamples <= pcm.size(); i += kFrameSamples) {
    std::array<uint8_t, kFrameSamples> f{};
    double sum = 0;
    for (size_t k = 0; k < kFrameSamples; ++k) {
      f[k] = LinearToUlaw(pcm[i + k]);
      sum += std::abs(pcm[i + k]);
    }
    if (sum / kFrameSamples > opt_.loud) last_loud_frame_ = utterance_.size();
    utterance_.push_back(f);
  }
  // Leading silence stays (a caller breathes before speaking); trailing silence goes, the
  // conversation loop sends silence after the utterance anyway.
  utterance_.resize(last_loud_frame_ + 1);
  silence_.fill(0xFF);

  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return false;
  calls_.resize(static_cast<size_t>(opt_.calls));
  for (size_t i = 0; i < calls_.size(); ++i) {
    Call& c = calls_[i];
    c.fd = BindUdp(0);
    if (c.fd < 0) {
      std::fprintf(stderr, "loadgen: socket %zu: %s\n", i, std::strerror(errno));
      return false;
    }
    c.slot = static_cast<int>(i % kSlots);
    WatchReadable(epfd_, c.fd, i);
  }
  if (!sip_.Open({.host = opt_.host,
                  .port = opt_.port,
                  .service = opt_.service,
                  .call_id_prefix = "la",
                  .invite_timeout_ns = 32'000'000'000},
                 calls_.size())) {
    return false;
  }
  WatchReadable(epfd_, sip_.fd(), UINT64_MAX);
  return true;
}

void LoadGen::SendInvite(size_t i) {
  // The From user "lg<index>" is how the server's call record is matched to this call.
  const std::string user = "lg" + std::to_string(i);
  const std::string sdp = "v=0\r\no=- " + std::to_string(i + 1) +
                          " 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                          "m=audio " +
                          std::to_string(LocalPort(calls_[i].fd)) +
                          " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n";
  sip_.Invite(i, user, "t" + user, sdp);
}

void LoadGen::OnSipEvent(const SipEvent& e) {
  Call& c = calls_[e.call];
  Dialog& d = sip_.dialog(e.call);
  if (e.kind == SipEvent::Kind::kEstablished) {
    c.media = e.media;
    c.talk = Talk::kListening;
    c.state_since_ns = NowNs();
  } else if (e.kind == SipEvent::Kind::kServerBye && d.state != DialogState::kDone) {
    d.state = DialogState::kDone;  // the agent hung up
    c.server_hung_up = true;
  }
}

void LoadGen::OnRtp(size_t i, int64_t mono_minus_real) {
  Call& c = calls_[i];
  std::array<uint8_t, kMaxDatagram> buf;
  alignas(cmsghdr) char control[256];
  for (;;) {
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t len = recvmsg(c.fd, &msg, 0);
    if (len < 0) return;
    int64_t arrival = NowNs();
    for (cmsghdr* h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h)) {
      if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SO_TIMESTAMPNS) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(h), sizeof ts);
        // Kernel stamps are CLOCK_REALTIME: moved onto the monotonic clock.
        arrival = int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec + mono_minus_real;
      }
    }
    if (len < static_cast<ssize_t>(kRtpHeaderBytes) || (buf[0] >> 6) != 2 ||
        (msg.msg_flags & MSG_TRUNC) || (buf[1] & 0x7F) != 0) {
      continue;  // not a PCMU RTP packet
    }
    const size_t offset = kRtpHeaderBytes + 4 * (buf[0] & 0x0F);
    if (static_cast<size_t>(len) <= offset) continue;
    double sum = 0;
    for (size_t k = offset; k < static_cast<size_t>(len); ++k)
      sum += std::abs(UlawToLinear(buf[k]));
    if (sum / static_cast<double>(static_cast<size_t>(len) - offset) <= opt_.loud) continue;
    c.last_loud_ns = arrival;
    c.heard_agent = true;
    // Only an answer heard while the call is up counts (not one in flight after a BYE).
    if (Talking(i) && c.talk == Talk::kAwaiting && !c.turns.empty() &&
        c.turns.back().answer_ns == 0) {
      c.turns.back().answer_ns = arrival;
      c.talk = Talk::kListening;
      c.state_since_ns = arrival;
    }
  }
}

void LoadGen::Poll(int timeout_ms) {
  epoll_event events[256];
  const int n = epoll_wait(epfd_, events, 256, timeout_ms);
  const int64_t mono_minus_real = NowNs() - RealtimeNs();
  for (int i = 0; i < n; ++i) {
    const uint64_t key = events[i].data.u64;
    if (key == UINT64_MAX) {
      sip_.Receive([this](const SipEvent& e) { OnSipEvent(e); });
    } else if (key < calls_.size()) {
      OnRtp(key, mono_minus_real);
    }
  }
}

void LoadGen::SendFrame(Call& c, const uint8_t* payload) {
  std::array<uint8_t, kRtpHeaderBytes + kFrameSamples> packet{};
  packet[0] = 0x80;
  packet[1] = 0;  // PCMU
  packet[2] = static_cast<uint8_t>(c.seq >> 8);
  packet[3] = static_cast<uint8_t>(c.seq);
  for (int b = 0; b < 4; ++b) packet[4 + b] = static_cast<uint8_t>(c.ts >> (24 - 8 * b));
  const uint32_t ssrc = 0x20000000u + static_cast<uint32_t>(&c - calls_.data());
  for (int b = 0; b < 4; ++b) packet[8 + b] = static_cast<uint8_t>(ssrc >> (24 - 8 * b));
  std::memcpy(packet.data() + kRtpHeaderBytes, payload, kFrameSamples);
  sendto(c.fd, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&c.media),
         sizeof c.media);
  ++c.seq;
  c.ts += kFrameSamples;
}

// One 20 ms step of one caller: what to send now, and what to do next.
void LoadGen::Converse(size_t i, int64_t now) {
  Call& c = calls_[i];
  const int64_t gap = static_cast<int64_t>(opt_.gap_ms * 1e6);
  const int64_t answer_timeout = static_cast<int64_t>(opt_.answer_timeout_s * 1e9);
  if (c.talk == Talk::kListening) {
    const bool agent_done = c.heard_agent && now - c.last_loud_ns >= gap;
    // Nothing heard for long (no greeting, lost answer): speak anyway.
    const bool gave_up = !c.heard_agent && now - c.state_since_ns >= answer_timeout;
    if (agent_done || gave_up) {
      c.greeted = true;
      if (static_cast<int>(c.turns.size()) >= opt_.turns) {
        sip_.HangUp(i);
        return;
      }
      c.talk = Talk::kSpeaking;
      c.state_since_ns = now;
      c.frame = 0;
    }
  }
  if (c.talk == Talk::kSpeaking) {
    SendFrame(c, utterance_[c.frame].data());
    if (c.frame == last_loud_frame_) {
      c.turns.push_back({now, 0});
      c.talk = Talk::kAwaiting;
      c.state_since_ns = now;
      c.heard_agent = false;
    }
    ++c.frame;
    return;
  }
  if (c.talk == Talk::kAwaiting && now - c.state_since_ns >= answer_timeout) {
    ++answer_timeouts_;
    c.talk = Talk::kListening;  // speak again after the gap
    c.state_since_ns = now;
    c.heard_agent = true;
    c.last_loud_ns = now;
  }
  SendFrame(c, silence_.data());
}

void LoadGen::Report(double window_s, double server_cpu_s, double self_cpu_s) {
  std::sort(late_samples_.begin(), late_samples_.end());
  const auto late_q = [&](double q) {
    if (late_samples_.empty()) return 0.0;
    return static_cast<double>(late_samples_[std::min(
               late_samples_.size() - 1,
               static_cast<size_t>(q * static_cast<double>(late_samples_.size())))]) /
           1e6;
  };
  int turns = 0, answered = 0, hung_up = 0;
  for (const Call& c : calls_) {
    turns += static_cast<int>(c.turns.size());
    for (const Turn& t : c.turns) answered += t.answer_ns != 0;
    hung_up += c.server_hung_up;
  }
  std::printf("{\"calls\": %d, \"established\": %d, \"failed\": %d, \"setup_s\": %.2f", opt_.calls,
              sip_.established(), sip_.failed(), setup_s_);
  std::printf(", \"fail_codes\": [");
  bool first = true;
  int shown = 0;
  for (size_t i = 0; i < calls_.size(); ++i) {
    const Dialog& d = sip_.dialog(i);
    if (d.state == DialogState::kFailed && shown++ < 20) {
      std::printf("%s%d", first ? "" : ", ", d.fail_code);
      first = false;
    }
  }
  std::printf(
      "], \"turns\": %d, \"answered\": %d, \"answer_timeouts\": %d, \"server_hung_up\": %d"
      ", \"bye_ok\": %d",
      turns, answered, answer_timeouts_, hung_up, sip_.bye_ok());
  std::printf(
      ", \"window_s\": %.3f, \"loadgen_cpu_pct\": %.1f, \"send_late_p50_ms\": %.3f"
      ", \"send_late_p99_ms\": %.3f, \"send_late_max_ms\": %.3f",
      window_s, 100.0 * self_cpu_s / window_s, late_q(0.5), late_q(0.99),
      static_cast<double>(late_max_ns_) / 1e6);
  if (server_cpu_s >= 0) {
    std::printf(", \"server_cpu_s\": %.3f, \"server_cpu_pct\": %.1f", server_cpu_s,
                100.0 * server_cpu_s / window_s);
  }
  if (rss_before_.ok) {
    std::printf(
        ", \"server_rss_before_kb\": %lld, \"server_rss_greeted_kb\": %lld"
        ", \"server_rss_peak_kb\": %lld",
        static_cast<long long>(rss_before_.rss_bytes / 1024),
        static_cast<long long>(rss_greeted_.rss_bytes / 1024),
        static_cast<long long>(rss_peak_bytes_ / 1024));
  }
  std::printf(", \"per_call\": [");
  for (size_t i = 0; i < calls_.size(); ++i) {
    const Call& c = calls_[i];
    std::printf("%s{\"user\": \"lg%zu\", \"turns\": [", i ? ", " : "", i);
    for (size_t k = 0; k < c.turns.size(); ++k) {
      std::printf("%s[%lld, %lld]", k ? ", " : "", static_cast<long long>(c.turns[k].speech_end_ns),
                  static_cast<long long>(c.turns[k].answer_ns));
    }
    std::printf("]}");
  }
  std::printf("]}\n");
  std::fflush(stdout);
}

int LoadGen::Run() {
  RaiseFdLimit();
  if (!Open()) return 1;
  rss_before_ = SampleServer(opt_.server_pid);
  const ServerSample cpu0 = SampleServer(opt_.server_pid);
  const double self0 = SelfCpuS();
  const int64_t start = NowNs();
  const int64_t end_by = start + static_cast<int64_t>(opt_.max_seconds * 1e9);
  const int64_t invite_interval = static_cast<int64_t>(1e9 / std::max(1.0, opt_.setup_rate));
  const int64_t slot_ns = kPtimeNs / kSlots;
  size_t next_invite = 0;
  int64_t last_scan = start, last_rss = start;
  bool setup_reported = false, greeted_all = false;
  ServerSample cpu_at_bye;
  int64_t first_bye_ns = 0;
  for (int64_t tick = 0;; ++tick) {
    const int64_t deadline = start + tick * slot_ns;
    SleepUntilNs(deadline);
    const int64_t now = NowNs();
    if (now - deadline > late_max_ns_) late_max_ns_ = now - deadline;
    if (late_samples_.size() < 2'000'000) late_samples_.push_back(now - deadline);
    while (next_invite < calls_.size() &&
           now >= start + static_cast<int64_t>(next_invite) * invite_interval) {
      SendInvite(next_invite++);
    }
    const int slot = static_cast<int>(tick % kSlots);
    int active = 0, greeted = 0;
    for (size_t i = 0; i < calls_.size(); ++i) {
      const Call& c = calls_[i];
      if (!Talking(i)) continue;
      ++active;
      greeted += c.greeted;
      if (c.slot != slot) continue;
      Converse(i, now);
      if (sip_.dialog(i).state == DialogState::kByeSent && first_bye_ns == 0) {
        first_bye_ns = now;
        cpu_at_bye = SampleServer(opt_.server_pid);
      }
    }
    if (!setup_reported && sip_.established() + sip_.failed() == opt_.calls) {
      setup_reported = true;
      setup_s_ = static_cast<double>(now - start) / 1e9;
      std::fprintf(stderr, "loadgen: %d established, %d failed in %.1f s\n", sip_.established(),
                   sip_.failed(), setup_s_);
    }
    if (!greeted_all && setup_reported && active > 0 && greeted == active) {
      greeted_all = true;  // every call is up and its agent has said the greeting
      rss_greeted_ = SampleServer(opt_.server_pid);
    }
    if (now - last_scan > 50'000'000) {
      sip_.Retransmit(now);
      last_scan = now;
    }
    if (now - last_rss > 500'000'000) {
      rss_peak_bytes_ = std::max(rss_peak_bytes_, SampleServer(opt_.server_pid).rss_bytes);
      last_rss = now;
    }
    Poll(0);
    bool pending = next_invite < calls_.size();
    for (size_t i = 0; i < calls_.size(); ++i) {
      const DialogState state = sip_.dialog(i).state;
      pending |= state != DialogState::kDone && state != DialogState::kFailed;
    }
    if (!pending) break;
    if (now > end_by) {
      std::fprintf(stderr, "loadgen: --max-seconds reached, hanging up\n");
      for (size_t i = 0; i < calls_.size(); ++i) {
        if (Talking(i)) sip_.HangUp(i);
      }
      const int64_t limit = NowNs() + 6'000'000'000;
      while (NowNs() < limit && sip_.AnyByeUnanswered()) {
        sip_.Retransmit(NowNs());
        Poll(20);
      }
      break;
    }
  }
  const ServerSample cpu1 = first_bye_ns ? cpu_at_bye : SampleServer(opt_.server_pid);
  const double window = static_cast<double>((first_bye_ns ? first_bye_ns : NowNs()) - start) / 1e9;
  Report(window, cpu0.ok && cpu1.ok ? cpu1.cpu_s - cpu0.cpu_s : -1, SelfCpuS() - self0);
  for (Call& c : calls_) close(c.fd);
  sip_.Close();
  close(epfd_);
  return 0;
}

int Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s --sip HOST:PORT --speech FILE.wav [--service sales] [--calls N]\n"
               "       [--turns K] [--gap-ms MS] [--loud LEVEL] [--answer-timeout S]\n"
               "       [--setup-rate N/s] [--max-seconds S] [--server-pid PID]\n",
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
    if (arg == "--sip") {
      const size_t colon = value.rfind(':');
      if (colon == std::string::npos) return Usage(argv[0]);
      o.host = value.substr(0, colon);
      o.port = std::atoi(value.c_str() + colon + 1);
      have_target = o.port > 0 && o.port < 65536;
    } else if (arg == "--service") {
      o.service = value;
    } else if (arg == "--speech") {
      o.speech_path = value;
    } else if (arg == "--calls") {
      o.calls = std::atoi(value.c_str());
    } else if (arg == "--turns") {
      o.turns = std::atoi(value.c_str());
    } else if (arg == "--gap-ms") {
      o.gap_ms = std::atof(value.c_str());
    } else if (arg == "--loud") {
      o.loud = std::atof(value.c_str());
    } else if (arg == "--answer-timeout") {
      o.answer_timeout_s = std::atof(value.c_str());
    } else if (arg == "--setup-rate") {
      o.setup_rate = std::atof(value.c_str());
    } else if (arg == "--max-seconds") {
      o.max_seconds = std::atof(value.c_str());
    } else if (arg == "--server-pid") {
      o.server_pid = std::atoi(value.c_str());
    } else {
      return Usage(argv[0]);
    }
  }
  const bool service_ok =
      !o.service.empty() && o.service.size() <= 64 &&
      std::all_of(o.service.begin(), o.service.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_';
      });
  if (!have_target || o.speech_path.empty() || !service_ok || o.calls < 1 || o.calls > 5000 ||
      o.turns < 1 || o.turns > 100 || o.gap_ms < 100 || o.gap_ms > 10000 || o.loud <= 0 ||
      o.answer_timeout_s <= 0 || o.answer_timeout_s > 120 || o.max_seconds <= 0 ||
      o.max_seconds > 3600) {
    return Usage(argv[0]);
  }
  return LoadGen(o).Run();
}
