// The SIP side of a load generator's calls: one minimal UAC on one UDP socket that places
// calls (INVITE with the generator's SDP offer), ACKs every final answer, hangs up (BYE),
// answers the server's own requests (200 to its BYE) and retransmits INVITE and BYE until
// they are answered. Each generator keeps what rides on a call (RTP, a conversation) and
// is told, per datagram, what changed for it (SipEvent).
// Header-only, nothing of atende linked (the generators are peers).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loadgen_sip.h"

namespace atende::bench {

enum class DialogState { kIdle, kInviting, kEstablished, kByeSent, kDone, kFailed };

// One call's dialog as the caller sees it.
struct Dialog {
  DialogState state = DialogState::kIdle;
  std::string call_id, from_user, from_tag;  // from_user: of the INVITE's From and Contact
  std::string to_header;                     // with the server's tag, from its final answer
  std::string remote_target;                 // the server's Contact: where ACK for 2xx and BYE go
  std::string last_request;                  // the INVITE or BYE in flight, retransmitted as is
  int64_t next_retransmit_ns = 0, retransmit_interval_ns = 0, give_up_ns = 0;
  bool provisional = false;  // a 1xx came: the server has the INVITE, so stop resending it
  int fail_code = 0;         // the final status, 408 for no answer, 1 for an unusable SDP
};

// What one datagram from the server means for the generator's own side of a call.
struct SipEvent {
  // kServerBye: the server hung up (already answered 200). What that ends is the
  // generator's call: it sets the dialog's state itself.
  enum class Kind { kNothing, kEstablished, kServerBye };
  Kind kind = Kind::kNothing;
  size_t call = 0;
  sockaddr_in media{};   // kEstablished: the RTP address of the server's SDP answer
  std::string_view sdp;  // kEstablished: the answer itself (valid during the callback only)
};

struct SipCallsOptions {
  std::string host = "127.0.0.1";
  int port = 5060;
  std::string service;            // calls go to sip:SERVICE@HOST:PORT
  std::string call_id_prefix;     // Call-IDs are "<prefix>-<index>-<pid>@127.0.0.1"
  int64_t invite_timeout_ns = 0;  // no final answer by then: the call fails with 408
};

class SipCalls {
 public:
  // Binds the SIP socket (add fd() to the generator's epoll) and makes room for `calls`.
  bool Open(SipCallsOptions options, size_t calls) {
    opt_ = std::move(options);
    request_uri_ = "sip:" + opt_.service + "@" + opt_.host + ":" + std::to_string(opt_.port);
    dialogs_.resize(calls);
    fd_ = BindUdp(8 << 20);  // a large buffer: answers to a burst of INVITEs come at once
    if (fd_ < 0) return false;
    local_ = "127.0.0.1:" + std::to_string(LocalPort(fd_));
    auto addr = MakeAddr(opt_.host, opt_.port);
    if (!addr) return false;
    server_ = *addr;
    return true;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  int fd() const { return fd_; }
  Dialog& dialog(size_t call) { return dialogs_[call]; }
  const Dialog& dialog(size_t call) const { return dialogs_[call]; }
  int established() const { return established_; }
  int failed() const { return failed_; }
  int bye_ok() const { return bye_ok_; }  // BYEs of ours answered 2xx

  void Invite(size_t call, const std::string& from_user, const std::string& from_tag,
              const std::string& sdp) {
    Dialog& d = dialogs_[call];
    d.call_id = opt_.call_id_prefix + "-" + std::to_string(call) + "-" + std::to_string(getpid()) +
                "@127.0.0.1";
    d.from_user = from_user;
    d.from_tag = from_tag;
    std::string& m = d.last_request;
    m.clear();
    m.append("INVITE ").append(request_uri_).append(" SIP/2.0\r\n");
    m.append("Via: SIP/2.0/UDP ").append(local_).append(";branch=").append(InviteBranch(d));
    m.append(";rport\r\nMax-Forwards: 70\r\n");
    m.append("From: <sip:").append(from_user).append("@").append(local_).append(">;tag=");
    m.append(from_tag).append("\r\nTo: <").append(request_uri_).append(">\r\n");
    m.append("Call-ID: ").append(d.call_id).append("\r\nCSeq: 1 INVITE\r\n");
    m.append("Contact: <sip:").append(from_user).append("@").append(local_).append(">\r\n");
    m.append("Content-Type: application/sdp\r\nContent-Length: ");
    m.append(std::to_string(sdp.size())).append("\r\n\r\n").append(sdp);
    d.state = DialogState::kInviting;
    StartRetransmits(d, opt_.invite_timeout_ns);
    Send(d.last_request);
  }

  void HangUp(size_t call) {
    Dialog& d = dialogs_[call];
    d.last_request = InDialogRequest("BYE", d.remote_target, d, BranchOf(d, "bye"), 2);
    d.state = DialogState::kByeSent;
    StartRetransmits(d, kByeTimeoutNs);
    Send(d.last_request);
  }

  bool AnyByeUnanswered() const {
    for (const Dialog& d : dialogs_) {
      if (d.state == DialogState::kByeSent) return true;
    }
    return false;
  }

  // Reads every datagram waiting on the socket; on_event(const SipEvent&) for each that
  // matters to the generator.
  template <class OnEvent>
  void Receive(OnEvent&& on_event) {
    char buf[4096];  // anything longer is truncated and fails to parse
    for (;;) {
      const ssize_t len = recv(fd_, buf, sizeof buf, 0);
      if (len < 0) break;
      const SipEvent e = OnDatagram(std::string_view(buf, static_cast<size_t>(len)));
      if (e.kind != SipEvent::Kind::kNothing) on_event(e);
    }
  }

  SipEvent OnDatagram(std::string_view text) {
    SipMessage m;
    if (!ParseSip(text, m)) return {};
    if (m.status == 0) return OnRequest(m);
    const size_t call = Find(m.call_id);
    if (call == kNoCall) return {};
    Dialog& d = dialogs_[call];
    SipEvent event;
    if (m.cseq_method == "INVITE") {
      if (m.status < 200) {
        d.provisional = true;
        return {};
      }
      d.to_header = std::string(m.to);
      if (m.status < 300) {
        if (d.state == DialogState::kInviting) {
          auto media = SdpAudioAddr(m.body);
          std::string_view contact = AngleUri(m.contact);
          d.remote_target = contact.empty() ? request_uri_ : std::string(contact);
          if (!media) {
            Fail(d, 1);
          } else {
            d.state = DialogState::kEstablished;
            ++established_;
            event = {SipEvent::Kind::kEstablished, call, *media, m.body};
          }
        }
        Ack(d, true);  // also re-ACKs a retransmitted 200
      } else {
        Ack(d, false);
        if (d.state == DialogState::kInviting) Fail(d, m.status);
      }
    } else if (m.cseq_method == "BYE" && m.status >= 200 && d.state == DialogState::kByeSent) {
      d.state = DialogState::kDone;
      if (m.status < 300) ++bye_ok_;
    }
    return event;
  }

  // Resends what is due (0.5 s doubling to 4 s, as RFC 3261 timers A and E) and gives up
  // on what has waited too long: an INVITE fails with 408, a BYE just ends the call.
  void Retransmit(int64_t now) {
    for (Dialog& d : dialogs_) {
      if (d.state != DialogState::kInviting && d.state != DialogState::kByeSent) continue;
      if (now >= d.give_up_ns) {
        if (d.state == DialogState::kInviting) {
          Fail(d, 408);
        } else {
          d.state = DialogState::kDone;
        }
        continue;
      }
      if (now >= d.next_retransmit_ns && !(d.state == DialogState::kInviting && d.provisional)) {
        Send(d.last_request);
        d.retransmit_interval_ns = std::min(d.retransmit_interval_ns * 2, kMaxRetransmitIntervalNs);
        d.next_retransmit_ns = now + d.retransmit_interval_ns;
      }
    }
  }

 private:
  static constexpr size_t kNoCall = SIZE_MAX;
  static constexpr int64_t kFirstRetransmitNs = 500'000'000;
  static constexpr int64_t kMaxRetransmitIntervalNs = 4'000'000'000;
  static constexpr int64_t kByeTimeoutNs = 5'000'000'000;

  void Send(const std::string& text) {
    sendto(fd_, text.data(), text.size(), 0, reinterpret_cast<const sockaddr*>(&server_),
           sizeof server_);
  }

  static void StartRetransmits(Dialog& d, int64_t give_up_after_ns) {
    const int64_t now = NowNs();
    d.retransmit_interval_ns = kFirstRetransmitNs;
    d.next_retransmit_ns = now + d.retransmit_interval_ns;
    d.give_up_ns = now + give_up_after_ns;
  }

  void Fail(Dialog& d, int code) {
    d.state = DialogState::kFailed;
    d.fail_code = code;
    ++failed_;
  }

  static std::string BranchOf(const Dialog& d, std::string_view what) {
    return "z9hG4bK-" + d.from_tag + "-" + std::string(what);
  }
  static std::string InviteBranch(const Dialog& d) { return BranchOf(d, "inv"); }

  // RFC 3261 17.1.1.3: the ACK of a non-2xx answer belongs to the INVITE's transaction
  // (same branch, sent where the INVITE went); the ACK of a 2xx is a new request to the
  // server's Contact.
  void Ack(const Dialog& d, bool for_2xx) {
    const std::string& ruri = for_2xx && !d.remote_target.empty() ? d.remote_target : request_uri_;
    Send(InDialogRequest("ACK", ruri, d, for_2xx ? BranchOf(d, "ack") : InviteBranch(d), 1));
  }

  // A request with no body within a call (ACK, BYE): the same headers but for the request
  // line, branch and CSeq.
  std::string InDialogRequest(std::string_view method, std::string_view ruri, const Dialog& d,
                              std::string_view branch, int cseq) const {
    std::string m;
    m.reserve(512);
    m.append(method).append(" ").append(ruri).append(" SIP/2.0\r\n");
    m.append("Via: SIP/2.0/UDP ").append(local_).append(";branch=").append(branch);
    m.append(";rport\r\nMax-Forwards: 70\r\n");
    // The INVITE's From, user and tag (RFC 3261 12.2.1.1).
    m.append("From: <sip:").append(d.from_user).append("@").append(local_).append(">;tag=");
    m.append(d.from_tag);
    m.append("\r\nTo: ").append(d.to_header).append("\r\nCall-ID: ").append(d.call_id);
    m.append("\r\nCSeq: ").append(std::to_string(cseq)).append(" ").append(method);
    m.append("\r\nContent-Length: 0\r\n\r\n");
    return m;
  }

  // A request from the server (its BYE when it hangs up, or anything else): 200 OK to all
  // but ACK, which is never answered.
  SipEvent OnRequest(const SipMessage& m) {
    if (m.method == "ACK") return {};
    std::string reply = "SIP/2.0 200 OK\r\n";
    for (std::string_view via : m.vias) reply += "Via: " + std::string(via) + "\r\n";
    reply += "From: " + std::string(m.from) + "\r\nTo: " + std::string(m.to) +
             "\r\nCall-ID: " + std::string(m.call_id) + "\r\nCSeq: " + std::string(m.cseq) +
             "\r\nContent-Length: 0\r\n\r\n";
    Send(reply);
    if (m.method != "BYE") return {};
    const size_t call = Find(m.call_id);
    if (call == kNoCall) return {};
    return {SipEvent::Kind::kServerBye, call, {}, {}};
  }

  // Our Call-IDs carry the call's index: it finds the dialog without a map.
  size_t Find(std::string_view call_id) const {
    const size_t prefix = opt_.call_id_prefix.size() + 1;
    if (call_id.substr(0, prefix) != opt_.call_id_prefix + "-") return kNoCall;
    size_t i = prefix, index = 0;
    for (; i < call_id.size() && i < prefix + 9 && call_id[i] >= '0' && call_id[i] <= '9'; ++i) {
      index = index * 10 + static_cast<size_t>(call_id[i] - '0');
    }
    if (i == prefix || index >= dialogs_.size() || dialogs_[index].call_id != call_id) {
      return kNoCall;
    }
    return index;
  }

  SipCallsOptions opt_;
  std::vector<Dialog> dialogs_;
  std::string request_uri_, local_;
  int fd_ = -1;
  sockaddr_in server_{};
  int established_ = 0, failed_ = 0, bye_ok_ = 0;
};

}  // namespace atende::bench
