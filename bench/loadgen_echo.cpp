// loadgen_echo: M concurrent RTP echo streams from one epoll thread, to measure a server's
// send pacing (jitter of the packets it returns) and its CPU per packet.
//
// SIP mode (default): places M calls to sip:SERVICE@HOST:PORT with the minimal raw SIP UAC of
// loadgen_sip_calls.h (INVITE with a PCMU + telephone-event offer naming one local RTP port
// per call, ACK on 200, BYE at the end), then streams.
// With --srtp (SIP mode) each call offers RTP/SAVP with an SDES key of its own (RFC 4568,
// AES_CM_128_HMAC_SHA1_80), takes the server's key from the answer, and protects and
// unprotects every packet, as a softphone would (bench/srtp_load.py). It uses atende's own
// transform (rtp/srtp_session.h, checked against libsrtp2 by the unit tests): Debian's
// libsrtp2 (NSS) costs ~6.5 us a packet, and at 500 calls the generator could not keep pace.
// Reflector mode (--reflector HOST:LO-HI): no SIP; stream i goes to port LO + i % (HI-LO+1)
// (bench/baseline_udp_echo), at the same packet rate, as the CPU floor to compare with.
//
// Per stream: one 172-byte RTP packet (PCMU, 160 bytes of payload) every 20 ms, each from an
// absolute CLOCK_MONOTONIC deadline (clock_nanosleep TIMER_ABSTIME), so our own sending never
// drifts. Streams are spread over 20 1-ms slots so the server sees a steady load, not a burst
// every 20 ms. Arrivals carry kernel receive timestamps (SO_TIMESTAMPNS), so how late this
// thread reads a packet does not matter; per stream, the deviation of each inter-arrival gap
// from 20 ms x (sequence step) is that server's send-pacing jitter (loopback adds little).
//
// Phases: [server RSS] -> set up calls -> settle -> [server RSS] -> media warm-up ->
// steady window (all statistics, server CPU from /proc/PID/stat) -> BYE. Prints one JSON
// object on stdout; progress on stderr.
//
// Usage:
//   loadgen_echo --sip 127.0.0.1:5060 [--service echo] [--srtp 1] --calls M [--seconds 10]
//                [--warmup 2] [--settle 1] [--setup-rate 400] [--server-pid PID]
//                [--payload tone|quiet|talk] [--speech FILE] [--talk-period 6]
//   loadgen_echo --reflector 127.0.0.1:41000-41999 --calls M [--seconds 10] [--warmup 2]
//                [--server-pid PID]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "latency_histogram.h"
#include "loadgen_sip.h"
#include "loadgen_sip_calls.h"
#include "rtp/srtp_session.h"

namespace atende::bench {
namespace {

constexpr int64_t kPtimeNs = 20'000'000;
constexpr int kSlots = 20;  // 1 ms slots in a 20 ms period
constexpr size_t kPayloadBytes = 160;
constexpr size_t kRtpHeaderBytes = 12;
constexpr size_t kMaxDatagram = 4096;  // anything longer is truncated and ignored

struct Options {
  bool reflector = false;
  std::string host = "127.0.0.1";
  int port = 5060;  // SIP port (SIP mode)
  int port_lo = 0;  // reflector range
  int port_hi = 0;
  std::string service = "echo";
  int calls = 10;
  double seconds = 10;
  double warmup = 2;
  double settle = 1;
  double setup_rate = 400;  // INVITEs per second
  int setup_window = 200;   // INVITEs without a final answer at once
  int server_pid = 0;
  bool srtp = false;             // SIP mode: RTP/SAVP with SDES keys, every packet through libsrtp2
  std::string payload = "tone";  // what every packet carries: tone | quiet | talk (OpenSockets)
  // talk: the caller says this recording (16 kHz s16le raw) every talk_period seconds.
  std::string speech = "/usr/share/pocketsphinx/test/data/goforward.raw";
  double talk_period = 6;
};

// ---- streams (call i carries stream i) ----

struct Stream {
  int fd = -1;
  sockaddr_in dest{};
  bool has_dest = false;
  uint16_t seq = 0;
  uint32_t ts = 0;
  uint32_t ssrc = 0;
  int slot = 0;
  std::unique_ptr<atende::rtp::SrtpSession> srtp;  // --srtp: our key out, the server's in
  std::array<uint8_t, 30> key{};
  // Receive side (the server's stream).
  bool have_last = false;
  uint16_t last_seq = 0;
  int64_t last_arrival_ns = 0;
};

struct Totals {
  uint64_t sent = 0, received = 0;           // steady window only
  uint64_t received_all = 0;                 // whole run
  uint64_t seq_lost = 0, seq_reordered = 0;  // steady window, from the server's sequence
  uint64_t echo_matched = 0;                 // steady window payloads equal to ours
  uint64_t bad_packets = 0;
  uint64_t send_errors = 0;
  uint64_t srtp_failed = 0;  // packets from the server that did not unprotect
  Histogram gap_dev;         // |gap - 20 ms x seq step|
  Histogram send_late;       // our own send time - deadline
};

// ---- SRTP (--srtp) ----

std::string Base64(const uint8_t* data, size_t n) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i + 2 < n; i += 3) {
    const uint32_t v = uint32_t(data[i]) << 16 | uint32_t(data[i + 1]) << 8 | data[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(k[(v >> shift) & 63]);
  }
  return out;
}

// The server's key: the first "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<40 chars>".
bool AnswerKey(std::string_view sdp, std::array<uint8_t, 30>& key) {
  constexpr std::string_view kPrefix = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:";
  const size_t at = sdp.find(kPrefix);
  if (at == std::string_view::npos || sdp.size() < at + kPrefix.size() + 40) return false;
  std::string_view b64 = sdp.substr(at + kPrefix.size(), 40);
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  size_t o = 0;
  for (size_t i = 0; i < 40; i += 4) {
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      const int d = value(b64[i + j]);
      if (d < 0) return false;
      v = v << 6 | static_cast<uint32_t>(d);
    }
    key[o++] = static_cast<uint8_t>(v >> 16);
    key[o++] = static_cast<uint8_t>(v >> 8);
    key[o++] = static_cast<uint8_t>(v);
  }
  return true;
}

std::unique_ptr<atende::rtp::SrtpSession> MakeSrtp(const std::array<uint8_t, 30>& ours,
                                                   const std::array<uint8_t, 30>& theirs) {
  atende::rtp::SrtpParams p;
  std::copy(ours.begin(), ours.end(), p.local.bytes.begin());
  std::copy(theirs.begin(), theirs.end(), p.remote.bytes.begin());
  return atende::rtp::SrtpSession::create(p, nullptr);
}

class LoadGen {
 public:
  explicit LoadGen(Options o) : opt_(std::move(o)) {}

  int Run();

 private:
  bool OpenSockets();
  bool SetupCalls();
  void SendInvite(size_t i);
  void OnSipEvent(const SipEvent& e);
  void Teardown();
  void PollOnce(int timeout_ms);
  void OnRtp(Stream& s);
  void Media(int64_t warmup_ns, int64_t window_ns);
  void Report(double wall_s, double server_cpu_s, double self_cpu_s, double host_busy_pct = -1);

  Options opt_;
  std::vector<Stream> streams_;
  int epfd_ = -1;
  SipCalls sip_;  // SIP mode only
  bool recording_ = false;
  int64_t window_start_ns_ = 0;
  Totals t_;
  std::array<uint8_t, kPayloadBytes> payload_{};
  std::vector<std::array<uint8_t, kPayloadBytes>> speech_;  // --payload talk: u-law frames
  std::vector<int> fail_codes_;
  ServerSample rss_before_, rss_idle_;
  double setup_s_ = 0;
};

bool LoadGen::OpenSockets() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return false;
  streams_.resize(static_cast<size_t>(opt_.calls));
  for (size_t i = 0; i < streams_.size(); ++i) {
    Stream& s = streams_[i];
    s.fd = BindUdp(0);
    if (s.fd < 0) {
      std::fprintf(stderr, "loadgen: socket %zu: %s\n", i, std::strerror(errno));
      return false;
    }
    s.ssrc = 0x10000000u + static_cast<uint32_t>(i);
    s.slot = static_cast<int>(i % kSlots);
    if (opt_.srtp &&
        getrandom(s.key.data(), s.key.size(), 0) != static_cast<ssize_t>(s.key.size())) {
      return false;
    }
    WatchReadable(epfd_, s.fd, i);
    if (opt_.reflector) {
      int span = opt_.port_hi - opt_.port_lo + 1;
      auto addr = MakeAddr(opt_.host, opt_.port_lo + static_cast<int>(i) % span);
      if (!addr) return false;
      s.dest = *addr;
      s.has_dest = true;
    }
  }
  if (!opt_.reflector) {
    if (!sip_.Open({.host = opt_.host,
                    .port = opt_.port,
                    .service = opt_.service,
                    .call_id_prefix = "lg",
                    .invite_timeout_ns = 16'000'000'000},
                   streams_.size())) {
      return false;
    }
    WatchReadable(epfd_, sip_.fd(), UINT64_MAX);
  }
  // A 400 Hz tone in G.711 u-law: something an echo can return recognisably. Or, with
  // --payload quiet, noise at about -65 dBFS: below the turn detector's -50 dBFS floor, so
  // a listening flow's VAD works on real samples every frame and no turn ever starts (a
  // caller listening to a menu); an echo still returns it recognisably.
  uint32_t lcg = 12345;
  for (size_t n = 0; n < kPayloadBytes; ++n) {
    double x = 8000.0 * std::sin(2 * M_PI * 400.0 * static_cast<double>(n) / 8000.0);
    if (opt_.payload == "quiet") {
      lcg = lcg * 1103515245u + 12345u;
      x = static_cast<double>(static_cast<int>((lcg >> 16) % 65) - 32);
    }
    payload_[n] = LinearToUlaw(static_cast<int>(x));
  }
  // --payload talk: between utterances the quiet noise above, then the recording (at 8 kHz:
  // each pair of 16 kHz samples averaged), so each call has a turn every talk_period s.
  if (opt_.payload == "talk") {
    FILE* f = std::fopen(opt_.speech.c_str(), "rb");
    if (!f) {
      std::fprintf(stderr, "loadgen: cannot read %s\n", opt_.speech.c_str());
      return false;
    }
    std::vector<int16_t> wide;
    int16_t buf[4096];
    size_t got;
    while ((got = std::fread(buf, 2, 4096, f)) > 0) wide.insert(wide.end(), buf, buf + got);
    std::fclose(f);
    for (size_t i = 0; i + 2 * kPayloadBytes <= wide.size(); i += 2 * kPayloadBytes) {
      std::array<uint8_t, kPayloadBytes> frame{};
      for (size_t n = 0; n < kPayloadBytes; ++n) {
        frame[n] = LinearToUlaw((wide[i + 2 * n] + wide[i + 2 * n + 1]) / 2);
      }
      speech_.push_back(frame);
    }
    if (speech_.empty()) return false;
  }
  return true;
}

void LoadGen::SendInvite(size_t i) {
  const std::string crypto =
      opt_.srtp ? "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" +
                      Base64(streams_[i].key.data(), streams_[i].key.size()) + "\r\n"
                : std::string();
  const std::string sdp = "v=0\r\no=- " + std::to_string(i + 1) +
                          " 1 IN IP4 127.0.0.1\r\ns=-\r\n"
                          "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
                          std::to_string(LocalPort(streams_[i].fd)) +
                          (opt_.srtp ? " RTP/SAVP" : " RTP/AVP") +
                          " 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
                          "a=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n" +
                          crypto;
  sip_.Invite(i, "loadgen", "lg" + std::to_string(i), sdp);
}

void LoadGen::OnSipEvent(const SipEvent& e) {
  Stream& s = streams_[e.call];
  Dialog& d = sip_.dialog(e.call);
  if (e.kind == SipEvent::Kind::kEstablished) {
    if (opt_.srtp) {
      std::array<uint8_t, 30> theirs{};
      if (!AnswerKey(e.sdp, theirs) || !(s.srtp = MakeSrtp(s.key, theirs))) {
        std::fprintf(stderr, "loadgen: call %zu: no usable a=crypto in the answer\n", e.call);
        return;  // no destination: the stream stays silent (and shows as not set up)
      }
    }
    s.dest = e.media;
    s.has_dest = true;
  } else if (e.kind == SipEvent::Kind::kServerBye && d.state == DialogState::kEstablished) {
    d.state = DialogState::kDone;
    std::fprintf(stderr, "loadgen: server hung up %s\n", d.call_id.c_str());
  }
}

void LoadGen::OnRtp(Stream& s) {
  std::array<uint8_t, kMaxDatagram> buf;
  alignas(cmsghdr) char control[256];
  for (;;) {
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t len = recvmsg(s.fd, &msg, 0);
    if (len < 0) return;
    ++t_.received_all;
    if (s.srtp) {
      size_t n = static_cast<size_t>(len);
      if (s.srtp->unprotect_rtp(buf.data(), n) != atende::rtp::SrtpStatus::kOk) {
        ++t_.srtp_failed;
        continue;
      }
      len = static_cast<ssize_t>(n);
    }
    int64_t arrival = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        arrival = int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;  // CLOCK_REALTIME
      }
    }
    if (len < static_cast<ssize_t>(kRtpHeaderBytes) || (buf[0] >> 6) != 2 || arrival < 0 ||
        (msg.msg_flags & MSG_TRUNC)) {
      ++t_.bad_packets;
      continue;
    }
    if ((buf[1] & 0x7F) != 0) continue;  // only the audio stream paces at 20 ms
    uint16_t seq = static_cast<uint16_t>(buf[2] << 8 | buf[3]);
    // Realtime stamps can step with NTP; gaps of adjacent packets are what we use, and a
    // step would show as one outlier at most.
    if (recording_) {
      ++t_.received;
      size_t cc = buf[0] & 0x0F;
      size_t offset = kRtpHeaderBytes + 4 * cc;
      if (static_cast<size_t>(len) == offset + kPayloadBytes &&
          std::memcmp(buf.data() + offset, payload_.data(), kPayloadBytes) == 0) {
        ++t_.echo_matched;
      }
      if (s.have_last) {
        int16_t step = static_cast<int16_t>(seq - s.last_seq);
        if (step <= 0) {
          ++t_.seq_reordered;
        } else {
          t_.seq_lost += static_cast<uint64_t>(step - 1);
          t_.gap_dev.Add(arrival - s.last_arrival_ns - kPtimeNs * step);
        }
      }
    }
    int16_t forward = static_cast<int16_t>(seq - s.last_seq);
    if (!s.have_last || forward > 0) {
      s.have_last = true;
      s.last_seq = seq;
      s.last_arrival_ns = arrival;
    }
  }
}

void LoadGen::PollOnce(int timeout_ms) {
  epoll_event events[256];
  int n = epoll_wait(epfd_, events, 256, timeout_ms);
  for (int i = 0; i < n; ++i) {
    uint64_t key = events[i].data.u64;
    if (key == UINT64_MAX) {
      sip_.Receive([this](const SipEvent& e) { OnSipEvent(e); });
    } else if (key < streams_.size()) {
      OnRtp(streams_[key]);
    }
  }
}

bool LoadGen::SetupCalls() {
  const int64_t start = NowNs();
  const int64_t interval = static_cast<int64_t>(1e9 / std::max(1.0, opt_.setup_rate));
  size_t next = 0;
  int64_t last_retransmit_scan = start;
  while (sip_.established() + sip_.failed() < opt_.calls) {
    int64_t now = NowNs();
    int outstanding = static_cast<int>(next) - sip_.established() - sip_.failed();
    while (next < streams_.size() && now >= start + static_cast<int64_t>(next) * interval &&
           outstanding < opt_.setup_window) {
      SendInvite(next++);
      ++outstanding;
    }
    if (now - last_retransmit_scan > 50'000'000) {
      sip_.Retransmit(now);
      last_retransmit_scan = now;
    }
    PollOnce(1);
  }
  setup_s_ = static_cast<double>(NowNs() - start) / 1e9;
  for (size_t i = 0; i < streams_.size(); ++i) {
    const Dialog& d = sip_.dialog(i);
    if (d.state == DialogState::kFailed) fail_codes_.push_back(d.fail_code);
  }
  std::fprintf(stderr, "loadgen: %d established, %d failed in %.1f s\n", sip_.established(),
               sip_.failed(), setup_s_);
  return sip_.established() > 0;
}

void LoadGen::Media(int64_t warmup_ns, int64_t window_ns) {
  const int64_t start = NowNs() + 5'000'000;
  const int64_t window_start = start + warmup_ns;
  const int64_t end = window_start + window_ns;
  const int64_t slot_ns = kPtimeNs / kSlots;
  std::array<uint8_t, kRtpHeaderBytes + kPayloadBytes> packet{};
  std::array<uint8_t, kRtpHeaderBytes + kPayloadBytes + atende::rtp::kSrtpMaxTrailer>
      protected_packet{};
  std::memcpy(packet.data() + kRtpHeaderBytes, payload_.data(), kPayloadBytes);
  packet[0] = 0x80;
  packet[1] = 0;  // PCMU
  std::vector<std::vector<size_t>> by_slot(kSlots);
  for (size_t i = 0; i < streams_.size(); ++i) {
    if (streams_[i].has_dest) by_slot[static_cast<size_t>(streams_[i].slot)].push_back(i);
  }
  ServerSample cpu0;
  HostCpu host0;
  double self0 = 0;
  for (int64_t tick = 0;; ++tick) {
    const int64_t deadline = start + tick * slot_ns;
    if (deadline >= end) break;
    if (!recording_ && deadline >= window_start) {
      recording_ = true;
      window_start_ns_ = deadline;
      cpu0 = SampleServer(opt_.server_pid);
      host0 = SampleHostCpu();
      self0 = SelfCpuS();
    }
    SleepUntilNs(deadline);
    for (size_t i : by_slot[static_cast<size_t>(tick % kSlots)]) {
      Stream& s = streams_[i];
      if (!opt_.reflector && sip_.dialog(i).state != DialogState::kEstablished) continue;
      packet[2] = static_cast<uint8_t>(s.seq >> 8);
      packet[3] = static_cast<uint8_t>(s.seq);
      if (!speech_.empty()) {  // talk: speech or quiet, per call at its own offset
        const size_t period = static_cast<size_t>(opt_.talk_period * 50);
        const size_t k = (s.seq + 37 * i) % std::max(period, speech_.size() + 50);
        std::memcpy(packet.data() + kRtpHeaderBytes,
                    k < speech_.size() ? speech_[k].data() : payload_.data(), kPayloadBytes);
      }
      for (int b = 0; b < 4; ++b) packet[4 + b] = static_cast<uint8_t>(s.ts >> (24 - 8 * b));
      for (int b = 0; b < 4; ++b) packet[8 + b] = static_cast<uint8_t>(s.ssrc >> (24 - 8 * b));
      const uint8_t* out = packet.data();
      size_t out_len = packet.size();
      if (s.srtp) {  // protected in a copy: the plain packet is the template for the next
        std::memcpy(protected_packet.data(), packet.data(), packet.size());
        if (s.srtp->protect_rtp(protected_packet.data(), out_len, protected_packet.size()) !=
            atende::rtp::SrtpStatus::kOk) {
          continue;
        }
        out = protected_packet.data();
      }
      ssize_t sent = sendto(s.fd, out, static_cast<size_t>(out_len), 0,
                            reinterpret_cast<const sockaddr*>(&s.dest), sizeof s.dest);
      if (recording_) {
        t_.send_late.Add(NowNs() - deadline);
        if (sent == static_cast<ssize_t>(out_len)) {
          ++t_.sent;
        } else {
          ++t_.send_errors;
        }
      }
      ++s.seq;
      s.ts += kPayloadBytes;
    }
    // Drain what has arrived; kernel timestamps make the reading time irrelevant.
    PollOnce(0);
  }
  // Packets still in flight at the end of the window count as received for loss.
  const int64_t drain_until = NowNs() + 60'000'000;
  while (NowNs() < drain_until) PollOnce(5);
  recording_ = false;
  ServerSample cpu1 = SampleServer(opt_.server_pid);
  const HostCpu host1 = SampleHostCpu();
  double self1 = SelfCpuS();
  double wall = static_cast<double>(NowNs() - window_start_ns_) / 1e9;
  Report(wall, cpu0.ok && cpu1.ok ? cpu1.cpu_s - cpu0.cpu_s : -1, self1 - self0,
         HostBusyPct(host0, host1));
}

void LoadGen::Teardown() {
  if (opt_.reflector) return;
  for (size_t i = 0; i < streams_.size(); ++i) {
    if (sip_.dialog(i).state == DialogState::kEstablished) sip_.HangUp(i);
  }
  const int64_t limit = NowNs() + 8'000'000'000;
  while (sip_.AnyByeUnanswered() && NowNs() <= limit) {
    sip_.Retransmit(NowNs());
    PollOnce(20);
  }
}

void LoadGen::Report(double wall_s, double server_cpu_s, double self_cpu_s, double host_busy_pct) {
  const uint64_t handled = t_.sent + t_.received;
  std::printf("{\"mode\": \"%s\", \"srtp\": %s, \"srtp_failed\": %llu",
              opt_.reflector ? "reflector" : "sip", opt_.srtp ? "true" : "false",
              static_cast<unsigned long long>(t_.srtp_failed));
  std::printf(", \"calls\": %d, \"established\": %d, \"failed\": %d", opt_.calls,
              opt_.reflector ? opt_.calls : sip_.established(), sip_.failed());
  std::printf(", \"fail_codes\": [");
  for (size_t i = 0; i < fail_codes_.size() && i < 20; ++i) {
    std::printf("%s%d", i ? ", " : "", fail_codes_[i]);
  }
  std::printf("], \"setup_s\": %.2f", setup_s_);
  std::printf(", \"window_s\": %.3f, \"packets_sent\": %llu, \"packets_received\": %llu", wall_s,
              static_cast<unsigned long long>(t_.sent),
              static_cast<unsigned long long>(t_.received));
  std::printf(
      ", \"send_errors\": %llu, \"bad_packets\": %llu, \"seq_lost\": %llu"
      ", \"seq_reordered\": %llu, \"echo_matched\": %llu",
      static_cast<unsigned long long>(t_.send_errors),
      static_cast<unsigned long long>(t_.bad_packets), static_cast<unsigned long long>(t_.seq_lost),
      static_cast<unsigned long long>(t_.seq_reordered),
      static_cast<unsigned long long>(t_.echo_matched));
  std::printf(", \"gap_samples\": %llu", static_cast<unsigned long long>(t_.gap_dev.count()));
  PrintQuantilesMs("jitter", t_.gap_dev);
  PrintQuantilesMs("send_late", t_.send_late);
  std::printf(", \"loadgen_cpu_pct\": %.1f", 100.0 * self_cpu_s / wall_s);
  if (host_busy_pct >= 0) std::printf(", \"host_busy_pct\": %.1f", host_busy_pct);
  if (server_cpu_s >= 0) {
    std::printf(", \"server_cpu_pct\": %.1f, \"server_cpu_us_per_packet\": %.3f",
                100.0 * server_cpu_s / wall_s,
                handled ? 1e6 * server_cpu_s / static_cast<double>(handled) : 0.0);
  }
  if (rss_before_.ok && rss_idle_.ok && sip_.established() > 0) {
    std::printf(
        ", \"server_rss_before_kb\": %lld, \"server_rss_idle_kb\": %lld"
        ", \"rss_kb_per_idle_call\": %.1f",
        static_cast<long long>(rss_before_.rss_bytes / 1024),
        static_cast<long long>(rss_idle_.rss_bytes / 1024),
        static_cast<double>(rss_idle_.rss_bytes - rss_before_.rss_bytes) / 1024.0 /
            sip_.established());
  }
  std::printf("}\n");
  std::fflush(stdout);
}

int LoadGen::Run() {
  RaiseFdLimit();  // one socket per stream plus a few
  if (!OpenSockets()) return 1;
  rss_before_ = SampleServer(opt_.server_pid);
  if (!opt_.reflector) {
    if (!SetupCalls()) {
      Report(1, -1, 0);
      return 1;
    }
    const int64_t settle_end = NowNs() + static_cast<int64_t>(opt_.settle * 1e9);
    while (NowNs() < settle_end) PollOnce(10);
    rss_idle_ = SampleServer(opt_.server_pid);
  }
  Media(static_cast<int64_t>(opt_.warmup * 1e9), static_cast<int64_t>(opt_.seconds * 1e9));
  Teardown();
  for (Stream& s : streams_) {
    close(s.fd);
    s.srtp.reset();
  }
  sip_.Close();
  close(epfd_);
  return 0;
}

bool ParseHostPorts(const std::string& text, Options& o) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  o.host = text.substr(0, colon);
  return std::sscanf(text.c_str() + colon + 1, "%d-%d", &o.port_lo, &o.port_hi) == 2 &&
         o.port_lo > 0 && o.port_hi >= o.port_lo && o.port_hi < 65536;
}

bool ParseHostPort(const std::string& text, Options& o) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  o.host = text.substr(0, colon);
  o.port = std::atoi(text.c_str() + colon + 1);
  return o.port > 0 && o.port < 65536;
}

int Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s (--sip HOST:PORT [--service echo] | --reflector HOST:LO-HI) --calls M\n"
               "       [--seconds S] [--warmup S] [--settle S] [--setup-rate N/s]"
               " [--server-pid PID] [--payload tone|quiet|talk]\n"
               "       [--speech FILE.raw (16 kHz s16le)] [--talk-period S]\n",
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
    std::string arg = argv[i];
    if (i + 1 >= argc) return Usage(argv[0]);
    std::string value = argv[++i];
    if (arg == "--sip") {
      if (!ParseHostPort(value, o)) return Usage(argv[0]);
      have_target = true;
    } else if (arg == "--reflector") {
      if (!ParseHostPorts(value, o)) return Usage(argv[0]);
      o.reflector = true;
      have_target = true;
    } else if (arg == "--service") {
      o.service = value;
    } else if (arg == "--calls") {
      o.calls = std::atoi(value.c_str());
    } else if (arg == "--seconds") {
      o.seconds = std::atof(value.c_str());
    } else if (arg == "--warmup") {
      o.warmup = std::atof(value.c_str());
    } else if (arg == "--settle") {
      o.settle = std::atof(value.c_str());
    } else if (arg == "--setup-rate") {
      o.setup_rate = std::atof(value.c_str());
    } else if (arg == "--server-pid") {
      o.server_pid = std::atoi(value.c_str());
    } else if (arg == "--payload") {
      if (value != "tone" && value != "quiet" && value != "talk") return Usage(argv[0]);
      o.payload = value;
    } else if (arg == "--speech") {
      o.speech = value;
    } else if (arg == "--talk-period") {
      o.talk_period = std::atof(value.c_str());
    } else if (arg == "--srtp") {
      o.srtp = value == "1" || value == "yes" || value == "true";
    } else {
      return Usage(argv[0]);
    }
  }
  if (!have_target || o.calls < 1 || o.calls > 20000 || o.seconds <= 0 || o.seconds > 600 ||
      o.warmup < 0 || o.warmup > 60 || o.settle < 0 || o.settle > 60) {
    return Usage(argv[0]);
  }
  if (o.srtp && o.reflector) return Usage(argv[0]);
  return LoadGen(o).Run();
}
