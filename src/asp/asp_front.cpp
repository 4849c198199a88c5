#include "asp/asp_front.h"

#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <random>

#include "asp/asp_credentials.h"
#include "core/call_id.h"

namespace atende::asp {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// Small kernel send buffer: a peer that stops reading fills it quickly and our bounded slots
// then say so (Channel::kOutSlots), instead of megabytes of autotuned buffer hiding it.
constexpr int kSocketBuffer = 16384;
constexpr int kMaxAheadMs = 2000;  // how far a peer's audio may run ahead of real time

struct Target {
  std::string host, path;
  int port = 0;
  bool secure = false;
};

// "ws://HOST:PORT/PATH?QUERY"; numeric host or "localhost" (no blocking DNS).
bool parse_target(std::string_view to, Target& t) {
  if (to.size() > 512) return false;
  if (to.rfind("ws://", 0) == 0) {
    to.remove_prefix(5);
  } else if (to.rfind("wss://", 0) == 0) {
    to.remove_prefix(6);
    t.secure = true;
  } else {
    return false;
  }
  const size_t slash = to.find('/');
  std::string_view hostport = to.substr(0, slash);
  t.path = slash == std::string_view::npos ? "/asp" : std::string(to.substr(slash));
  for (char c : t.path) {
    if (c <= 0x20 || c == 0x7f) return false;
  }
  size_t colon = hostport.rfind(':');
  if (hostport.empty()) return false;
  if (hostport.front() == '[') {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) return false;
    t.host = std::string(hostport.substr(1, close - 1));
    colon = close + 1 < hostport.size() && hostport[close + 1] == ':' ? close + 1
                                                                      : std::string_view::npos;
  } else {
    t.host = std::string(hostport.substr(0, colon));
  }
  t.port = t.secure ? 443 : 80;
  if (colon != std::string_view::npos) {
    const std::string_view p = hostport.substr(colon + 1);
    if (p.empty() || p.size() > 5) return false;
    int port = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      port = port * 10 + (c - '0');
    }
    t.port = port;
  }
  if (t.port <= 0 || t.port > 65535) return false;
  if (t.host == "localhost") t.host = "127.0.0.1";
  beast::error_code ec;
  net::ip::make_address(t.host, ec);
  return !ec;
}

std::string random_uuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::array<uint8_t, 16> u{};
  for (size_t i = 0; i < u.size(); i += 8) {
    uint64_t r = rng();
    std::memcpy(u.data() + i, &r, 8);
  }
  u[6] = static_cast<uint8_t>((u[6] & 0x0f) | 0x40);
  u[8] = static_cast<uint8_t>((u[8] & 0x3f) | 0x80);
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += hex[u[i] >> 4];
    s += hex[u[i] & 15];
  }
  return s;
}

// A failure of the WebSocket itself, as recorded.
std::string ws_end_reason(const beast::error_code& ec) {
  if (ec == websocket::error::closed) return "disconnected";
  if (ec == net::error::eof || ec == net::error::connection_reset ||
      ec == net::error::broken_pipe || ec == http::error::end_of_stream) {
    return "disconnected";
  }
  if (ec == beast::error::timeout) return "timeout";
  if (ec == websocket::error::message_too_big || ec == websocket::error::buffer_overflow) {
    return "protocol_error: message_too_big";
  }
  if (ec.category() == websocket::make_error_code(websocket::error::bad_opcode).category()) {
    return "protocol_error: websocket";
  }
  return "disconnected";
}

}  // namespace

bool is_asp_target(std::string_view to) {
  return to.rfind("ws://", 0) == 0 || to.rfind("wss://", 0) == 0;
}

struct AspFront::Impl {
  net::io_context ioc{1};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::thread thread;
};

// One WebSocket, either role. Lives on the I/O thread only (its handlers keep it alive).
class AspFront::Conn : public std::enable_shared_from_this<AspFront::Conn> {
 public:
  Conn(AspFront& front, tcp::socket socket, Role role)
      : front_(front),
        ws_(std::move(socket)),
        role_(role),
        wake_(ws_.get_executor()),
        start_timer_(ws_.get_executor()) {
    ws_.read_message_max(std::max(kMaxTextBytes, kMaxBinaryBytes));
    ws_.auto_fragment(false);
    binary_.reserve(sizeof(OutSlot::pcm));
    {
      std::lock_guard lock(front_.mu_);
      ++front_.open_;
    }
  }
  ~Conn() {
    std::lock_guard lock(front_.mu_);
    --front_.open_;
  }

  // ---- server role ----
  // `subprotocol`: the client offered "atende-asp" (a browser): the reply must name it.
  void accept(http::request<http::empty_body> req, std::string user, bool subprotocol) {
    user_ = std::move(user);
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(
        websocket::stream_base::timeout{std::chrono::seconds(5), std::chrono::seconds(20), true});
    ws_.set_option(websocket::stream_base::decorator([subprotocol](websocket::response_type& r) {
      r.set(http::field::server, "atende");
      if (subprotocol) r.set(http::field::sec_websocket_protocol, std::string(kSubprotocol));
    }));
    ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;  // the handshake failed: nothing was a session yet
      self->send_text(capabilities_json());
      self->start_timer_.expires_after(
          std::chrono::milliseconds(self->front_.options_.start_timeout_ms));
      self->start_timer_.async_wait([self](beast::error_code e) {
        if (!e && self->state_ == State::kAwaitStart) {
          self->fail(Error::kTimeout, "no session.start in time");
        }
      });
      self->state_ = State::kAwaitStart;
      self->read();
    });
  }

  // ---- client role ----
  void dial(sessions::DialOrder order, Target target) {
    order_ = std::move(order);
    target_ = std::move(target);
    session_id_ = random_uuid();
    state_ = State::kConnecting;
    const auto ring =
        std::min<std::chrono::milliseconds>(order_.ring_timeout, std::chrono::seconds(10));
    beast::get_lowest_layer(ws_).expires_after(ring);
    tcp::endpoint ep(net::ip::make_address(target_.host), static_cast<uint16_t>(target_.port));
    beast::get_lowest_layer(ws_).async_connect(ep, [self =
                                                        shared_from_this()](beast::error_code ec) {
      if (ec) return self->dial_failed("cannot connect: " + ec.message());
      self->tune();
      beast::get_lowest_layer(self->ws_).expires_never();
      self->ws_.set_option(
          websocket::stream_base::timeout{std::chrono::seconds(5), std::chrono::seconds(20), true});
      const std::string token = self->front_.options_.client_token;
      self->ws_.set_option(websocket::stream_base::decorator([token](websocket::request_type& r) {
        r.set(http::field::user_agent, "atende");
        if (!token.empty()) r.set(http::field::authorization, "Bearer " + token);
      }));
      const std::string& h = self->target_.host;
      const std::string host = (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" +
                               std::to_string(self->target_.port);
      self->ws_.async_handshake(host, self->target_.path, [self](beast::error_code e) {
        if (e) return self->dial_failed("handshake: " + e.message());
        self->state_ = State::kAwaitCapabilities;
        self->start_timer_.expires_after(std::chrono::seconds(5));
        self->start_timer_.async_wait([self](beast::error_code te) {
          if (!te &&
              (self->state_ == State::kAwaitCapabilities || self->state_ == State::kAwaitStarted)) {
            self->dial_failed("no session.started in time");
          }
        });
        self->read();
      });
    });
  }

  void tune() {
    const int fd = beast::get_lowest_layer(ws_).socket().native_handle();
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }

  // Any thread (through the I/O thread): our side hangs up before the session is up.
  void cancel() {
    if (state_ == State::kDone || state_ == State::kActive) return;
    dial_failed("cancelled", "cancelled");
  }
  void shutdown() {
    if (state_ == State::kActive || state_ == State::kDone) return;  // the leg ends it
    if (role_ == Role::kClient) return dial_failed("shutdown", "shutdown");
    state_ = State::kDone;
    close_with(websocket::close_code::going_away, "shutdown");
  }

 private:
  enum class State {
    kAccepting,
    kAwaitStart,
    kConnecting,
    kAwaitCapabilities,
    kAwaitStarted,
    kActive,
    kEnding,
    kDone
  };

  void read() {
    ws_.async_read(rbuf_, [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->on_read(ec, n);
    });
  }

  void on_read(beast::error_code ec, size_t n) {
    if (ec) return on_socket_end(ec);
    front_.metrics_.frames_in.inc();
    front_.metrics_.bytes_in.inc(n);
    const auto data = rbuf_.data();
    const bool text = ws_.got_text();
    if (state_ == State::kEnding) {
      // Only the agent's answer to our session.end still matters.
      if (text && awaiting_ended_) {
        Message m;
        if (parse_message({static_cast<const char*>(data.data()), data.size()}, m).ok() &&
            m.type == Type::kSessionEnded) {
          awaiting_ended_ = false;
          start_timer_.cancel();
          pump();
        }
      }
      rbuf_.consume(rbuf_.size());
      return read();
    }
    std::string_view bytes(static_cast<const char*>(data.data()), data.size());
    if (text) {
      on_text(bytes);
    } else {
      on_binary(bytes);
    }
    rbuf_.consume(rbuf_.size());
    // Read on until the socket ends: a close handshake completes this read with `closed`.
    if (state_ != State::kDone) read();
  }

  void on_socket_end(const beast::error_code& ec) {
    if (state_ == State::kDone) return;
    const std::string reason = ws_end_reason(ec);
    if (reason.rfind("protocol_error", 0) == 0) front_.metrics_.protocol_errors.inc();
    if (state_ == State::kActive || state_ == State::kEnding) {
      if (state_ == State::kActive) {
        spdlog::info("call={} event=asp_socket_end reason={} ({})", session_id_, reason,
                     ec.message());
      }
      channel_->set_ended(reason);
    } else if (role_ == Role::kClient) {
      return dial_failed(reason + ": " + ec.message());
    }
    state_ = State::kDone;
    start_timer_.cancel();
    beast::error_code ignored;
    wake_.close(ignored);
  }

  void on_binary(std::string_view bytes) {
    if (state_ != State::kActive) {
      return fail(Error::kUnexpectedMessage, "audio before the session started");
    }
    if (bytes.empty() || bytes.size() % 2 != 0 || bytes.size() > kMaxBinaryBytes) {
      return fail(Error::kInvalidMessage, "audio must be whole 16-bit samples, at most 6400 bytes");
    }
    const size_t count = bytes.size() / 2;
    // Real time is the monotonic clock: the bucket refills at the session's rate up to 2 s.
    const auto now = Clock::now();
    const int rate = channel_->rate();
    const int64_t cap = int64_t(rate) * kMaxAheadMs / 1000;
    if (credit_at_ == Clock::time_point{}) {
      credit_ = cap;
    } else {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - credit_at_);
      credit_ = std::min(cap, credit_ + us.count() * rate / 1'000'000);
    }
    credit_at_ = now;
    credit_ -= static_cast<int64_t>(count);
    if (credit_ < 0) {
      front_.metrics_.too_fast.inc();
      return fail(Error::kTooFast, "audio faster than real time");
    }
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    for (size_t i = 0; i < count; ++i) {  // little-endian on the wire, whatever the host
      samples_[i] = static_cast<int16_t>(uint16_t(p[2 * i]) | uint16_t(p[2 * i + 1]) << 8);
    }
    if (const size_t dropped = channel_->push_audio(samples_.data(), count, now)) {
      front_.metrics_.catch_up_drops.inc(dropped);
    }
  }

  void on_text(std::string_view text) {
    Message m;
    const ParseResult r = parse_message(text, m);
    if (!r.ok()) {
      front_.metrics_.protocol_errors.inc();
      if (role_ == Role::kClient && state_ != State::kActive) {
        return dial_failed("bad message from the agent: " + r.detail, "failed");
      }
      return fail(r.error, r.detail);
    }
    if (m.type == Type::kError) {
      spdlog::warn("asp: session {}: peer error {}: {}", session_id_, m.code, m.text);
      if (state_ == State::kActive) {
        channel_->set_ended("peer_error");
        state_ = State::kEnding;
        return close_with(websocket::close_code::normal, "");
      }
      if (role_ == Role::kClient) return dial_failed("peer error " + m.code, "failed");
      return close_with(websocket::close_code::normal, "");
    }
    if (role_ == Role::kServer) return on_server_message(m);
    on_client_message(m);
  }

  // ---- server role: messages from the media server ----
  void on_server_message(const Message& m) {
    if (state_ == State::kAwaitStart) {
      if (m.type != Type::kSessionStart) {
        return fail(Error::kUnexpectedMessage,
                    std::string("expected session.start, got ") + type_name(m.type));
      }
      return start_session(m);
    }
    if (state_ != State::kActive) return;
    InEvent e{};
    switch (m.type) {
      case Type::kAudioEnd:
        e.kind = InKind::kAudioEnd;
        break;
      case Type::kBargeIn:
        e.kind = InKind::kBargeIn;
        break;
      case Type::kDtmf:
        e.kind = InKind::kDtmf;
        e.digit = m.digit;
        break;
      case Type::kSessionEnd:
        e.kind = InKind::kSessionEnd;
        break;
      default:
        return fail(Error::kUnexpectedMessage,
                    std::string(type_name(m.type)) + " is not sent by a media server");
    }
    if (!channel_->push_event(e)) return fail(Error::kTooFast, "too many control messages");
  }

  void start_session(const Message& m) {
    start_timer_.cancel();
    if (!m.version.empty() && version_major(m.version) != kVersionMajor) {
      return fail(Error::kUnsupported, "version " + m.version.substr(0, 32) +
                                           " is not supported; this server speaks 1.x");
    }
    if ((m.audio.sample_rate != 8000 && m.audio.sample_rate != 16000) ||
        m.audio.encoding != "pcm_s16le" || m.audio.channels != 1) {
      return fail(Error::kUnsupported, "audio must be pcm_s16le, mono, 8000 or 16000 Hz");
    }
    std::string id;
    if (!parse_session_id(m.session_id, id)) {
      return fail(Error::kInvalidMessage, "session_id must be a UUID");
    }
    sessions::InboundRequest request;
    request.call_id = id;
    request.kind = "asp";
    request.from = "asp:" + (m.from.empty() ? remote_ : m.from);
    request.to = "asp:" + (m.to.empty() ? user_ : m.to);
    request.user = m.to.empty() ? user_ : m.to;
    auto& sessions = front_.sessions_;
    if (!front_.claim(id)) {
      // The live session keeps its id; this attempt is recorded under a fresh one.
      sessions::InboundRequest dup = request;
      dup.call_id = new_call_id();
      dup.to = "asp:" + id;
      sessions.reject(dup, "", 409, "session in use");
      front_.metrics_.refused.inc();
      return fail(Error::kSessionInUse, "session " + id + " is in use");
    }
    session_id_ = id;
    claimed_ = true;
    const sessions::Admission admission = sessions.admit(request);
    if (!admission.ok) {
      front_.release(id);
      sessions.reject(request, admission.flow, admission.status, admission.phrase);
      front_.metrics_.refused.inc();
      return fail(Error::kRefused, admission.phrase);
    }
    AudioFormat audio = m.audio;
    audio.frame_ms = 20;  // what we send; we take any whole samples
    channel_ = std::make_shared<Channel>(audio.sample_rate);
    LegInfo info{id, "asp", LegDirection::kInbound, request.from, request.to};
    const bool transcripts =
        std::find(m.features.begin(), m.features.end(), kFeatureTranscripts) != m.features.end();
    auto leg = front_.make_leg(info, Role::kServer, channel_, nullptr, transcripts);
    watch_channel();
    state_ = State::kActive;
    front_.metrics_.accepted.inc();
    send_text(session_started_json(id, audio, m.silence_threshold_ms, transcripts));
    spdlog::info("call={} event=asp_session_started from={} rate={} flow={}", id, remote_,
                 audio.sample_rate, admission.flow);
    sessions.open_inbound(request, admission, &leg->executor());
    sessions.leg_answered(leg, "asp " + remote_);
  }

  // ---- client role: messages from the agent ----
  void on_client_message(const Message& m) {
    if (state_ == State::kAwaitCapabilities) {
      if (m.type != Type::kCapabilities) {
        return dial_failed(std::string("expected protocol.capabilities, got ") + type_name(m.type));
      }
      if (version_major(m.version) != kVersionMajor) {
        send_text(error_json(Error::kUnsupported, "this client speaks 1.x"));
        return dial_failed("agent speaks version " + m.version.substr(0, 32));
      }
      const int rate = front_.options_.client_rate;
      const bool rate_ok =
          m.sample_rates.empty() ||
          std::find(m.sample_rates.begin(), m.sample_rates.end(), rate) != m.sample_rates.end();
      const bool enc_ok = m.encodings.empty() || std::find(m.encodings.begin(), m.encodings.end(),
                                                           "pcm_s16le") != m.encodings.end();
      if (!rate_ok || !enc_ok) {
        send_text(error_json(Error::kUnsupported, "need pcm_s16le at " + std::to_string(rate)));
        return dial_failed("agent does not take pcm_s16le at " + std::to_string(rate));
      }
      AudioFormat audio;
      audio.sample_rate = rate;
      state_ = State::kAwaitStarted;
      const size_t q = target_.path.find("to=");
      std::string to;
      if (q != std::string::npos && (target_.path[q - 1] == '?' || target_.path[q - 1] == '&')) {
        to = target_.path.substr(q + 3, target_.path.find('&', q) - q - 3);
      }
      return send_text(session_start_json(session_id_, audio, front_.options_.silence_threshold_ms,
                                          order_.caller_id, to));
    }
    if (state_ == State::kAwaitStarted) {
      if (m.type != Type::kSessionStarted) {
        return dial_failed(std::string("expected session.started, got ") + type_name(m.type));
      }
      if (m.status != "accepted") {
        return dial_failed("rejected: " + m.reason.substr(0, 80), "rejected");
      }
      if (m.audio.sample_rate != front_.options_.client_rate || m.audio.encoding != "pcm_s16le") {
        send_text(error_json(Error::kUnsupported, "negotiated audio differs from ours"));
        return dial_failed("negotiated audio differs from what we asked");
      }
      return answered();
    }
    if (state_ != State::kActive) return;
    InEvent e{};
    switch (m.type) {
      case Type::kResponseStart:
        e.kind = InKind::kResponseStart;
        break;
      case Type::kResponseEnd:
        e.kind = InKind::kResponseEnd;
        e.interrupted = m.interrupted;
        break;
      case Type::kDtmf:
        e.kind = InKind::kDtmf;
        e.digit = m.digit;
        break;
      case Type::kTranscript:
        return;  // an agent's transcripts: we never ask for them, and they change nothing
      case Type::kSessionEnded:
        channel_->set_ended("hangup");
        state_ = State::kEnding;
        return close_with(websocket::close_code::normal, "");
      default:
        return fail(Error::kUnexpectedMessage,
                    std::string(type_name(m.type)) + " is not sent by an agent");
    }
    if (!channel_->push_event(e)) return fail(Error::kTooFast, "too many control messages");
  }

  void answered() {
    start_timer_.cancel();
    channel_ = std::make_shared<Channel>(front_.options_.client_rate);
    const std::string id = order_.leg_id;
    {
      std::lock_guard lock(front_.mu_);
      front_.dialling_.erase(id);
    }
    session_id_ = id;  // logs name our call id from now on
    LegInfo info{id, "asp", LegDirection::kOutbound, order_.caller_id, order_.to};
    auto leg = front_.make_leg(info, Role::kClient, channel_, order_.near);
    watch_channel();
    state_ = State::kActive;
    front_.metrics_.connected_out.inc();
    spdlog::info("call={} event=asp_connected_out to={}", id, order_.to);
    front_.sessions_.leg_answered(leg, "asp to " + order_.to);
  }

  void dial_failed(const std::string& why, const char* outcome = "failed") {
    if (state_ == State::kDone) return;
    state_ = State::kDone;
    start_timer_.cancel();
    spdlog::warn("call={} event=dial_failed to={}: {}", order_.leg_id, order_.to, why);
    if (std::string_view(outcome) == "failed") front_.metrics_.connect_failed.inc();
    {
      std::lock_guard lock(front_.mu_);
      front_.dialling_.erase(order_.leg_id);
    }
    front_.sessions_.leg_ended(order_.leg_id, outcome, 0);
    if (ws_.is_open()) {
      close_with(websocket::close_code::normal, "");
    } else {
      beast::error_code ignored;
      beast::get_lowest_layer(ws_).socket().close(ignored);
    }
  }

  // The protocol's error, then its close code. A live session ends with the error's name.
  void fail(Error e, const std::string& detail) {
    if (state_ == State::kDone || state_ == State::kEnding) return;
    spdlog::warn("asp: session {} from {}: {}: {}", session_id_.empty() ? "-" : session_id_,
                 remote_, error_code(e), detail);
    if (e == Error::kInvalidMessage || e == Error::kUnknownMessage ||
        e == Error::kUnexpectedMessage) {
      front_.metrics_.protocol_errors.inc();
    }
    if (state_ == State::kActive) {
      channel_->set_ended(e == Error::kTooFast ? std::string("too_fast")
                                               : std::string("protocol_error: ") + error_code(e));
    } else if (role_ == Role::kClient) {
      send_text(error_json(e, detail));
      return dial_failed(detail);
    }
    state_ = State::kEnding;
    start_timer_.cancel();
    send_text(error_json(e, detail));
    close_with(close_code(e), error_code(e));
  }

  // ---- writing ----
  void send_text(std::string text) {
    pending_text_.push_back(std::move(text));
    pump();
  }

  void close_with(uint16_t code, std::string reason) {
    close_code_ = code;
    close_reason_ = std::move(reason);
    closing_ = true;
    pump();
  }

  // Starts the next write, if none is running: our own texts first, then the leg's slots,
  // then the last message and the close.
  void pump() {
    if (writing_ || closed_sent_) return;
    if (!pending_text_.empty()) {
      text_ = std::move(pending_text_.front());
      pending_text_.erase(pending_text_.begin());
      return write(true);
    }
    if (channel_ && !closing_) {
      OutSlot slot;
      if (channel_->pop_out(slot)) {
        if (slot.kind == OutKind::kAudio) {
          binary_.resize(size_t(slot.samples) * 2);
          for (size_t i = 0; i < slot.samples; ++i) {
            binary_[2 * i] = static_cast<uint8_t>(uint16_t(slot.pcm[i]) & 0xff);
            binary_[2 * i + 1] = static_cast<uint8_t>(uint16_t(slot.pcm[i]) >> 8);
          }
          return write(false);
        }
        text_ = slot_text(slot);
        return write(true);
      }
      std::string reason, detail;
      SessionStats stats;
      bool abort = false;
      if (channel_->local_end(&reason, &detail, &stats, &abort)) {
        if (abort) {
          // The peer reads nothing: no close handshake can reach it.
          state_ = State::kDone;
          beast::error_code ignored;
          beast::get_lowest_layer(ws_).socket().close(ignored);
          wake_.close(ignored);
          return;
        }
        state_ = State::kEnding;
        closing_ = true;
        close_code_ = reason == "shutdown" ? uint16_t(websocket::close_code::going_away)
                                           : uint16_t(websocket::close_code::normal);
        if (role_ == Role::kServer) {
          text_ = session_ended_json(session_id_, reason, detail, stats);
          return write(true);
        }
        // Client role: session.end, then the agent's session.ended (read on) or the timeout.
        text_ = session_end_json(reason == "local_hangup" ? "hangup" : reason);
        awaiting_ended_ = true;
        return write(true);
      }
    }
    if (closing_ && !closed_sent_ && !awaiting_ended_) {
      closed_sent_ = true;
      websocket::close_reason cr;
      cr.code = close_code_;
      cr.reason = close_reason_;
      // Our own bound on the close handshake, shorter than Beast's (5 s): a peer that never
      // answers our close frame is cut here. (Beast 1.74 asserts when its own timeout ends a
      // close while a read waits on it.)
      start_timer_.expires_after(std::chrono::seconds(2));
      start_timer_.async_wait([self = shared_from_this()](beast::error_code e) {
        if (e) return;
        beast::error_code ignored;
        beast::get_lowest_layer(self->ws_).socket().close(ignored);
      });
      ws_.async_close(cr, [self = shared_from_this()](beast::error_code) {
        self->state_ = State::kDone;
        self->start_timer_.cancel();
        beast::error_code ignored;
        self->wake_.close(ignored);
      });
    }
  }

  std::string slot_text(const OutSlot& s) const {
    switch (s.kind) {
      case OutKind::kResponseStart:
        return response_start_json(s.response_id);
      case OutKind::kResponseEnd:
        return response_end_json(s.response_id, s.interrupted);
      case OutKind::kAudioEnd:
        return audio_end_json();
      case OutKind::kBargeIn:
        return barge_in_json();
      case OutKind::kDtmf:
        return dtmf_json(s.digit);
      case OutKind::kTranscript:
        return transcript_json(s.digit == 'c' ? "caller" : "agent", slot_text_view(s));
      default:
        return "{}";
    }
  }

  void write(bool text) {
    writing_ = true;
    if (channel_) channel_->write_started(Clock::now());
    ws_.text(text);
    auto done = [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->writing_ = false;
      if (self->channel_) self->channel_->write_done();
      if (ec) return;  // the read side reports the end
      self->front_.metrics_.frames_out.inc();
      self->front_.metrics_.bytes_out.inc(n);
      if (self->awaiting_ended_ && self->text_.find("\"session.end\"") != std::string::npos) {
        // Give the agent 2 s to answer session.ended.
        self->start_timer_.expires_after(std::chrono::seconds(2));
        self->start_timer_.async_wait([self](beast::error_code e) {
          if (e) return;
          self->awaiting_ended_ = false;
          self->pump();
        });
      }
      self->pump();
    };
    if (text) {
      ws_.async_write(net::buffer(text_), done);
    } else {
      ws_.async_write(net::buffer(binary_), done);
    }
  }

  // The leg's slots: wait on the channel's eventfd.
  void watch_channel() {
    beast::error_code ec;
    wake_.assign(::dup(channel_->wake_fd()), ec);
    if (ec) return;
    wait_wake();
  }
  void wait_wake() {
    wake_.async_read_some(net::buffer(&wake_value_, sizeof wake_value_),
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (ec) return;
                            self->channel_->clear_woken();
                            self->pump();
                            if (self->state_ != State::kDone) self->wait_wake();
                          });
  }

 public:
  void set_remote(std::string r) { remote_ = std::move(r); }
  bool claimed() const { return claimed_; }
  const std::string& session_id() const { return session_id_; }

 private:
  AspFront& front_;
  websocket::stream<beast::tcp_stream> ws_;
  Role role_;
  net::posix::stream_descriptor wake_;
  net::steady_timer start_timer_;
  State state_ = State::kAccepting;
  beast::flat_buffer rbuf_;
  std::shared_ptr<Channel> channel_;
  std::string session_id_, remote_, user_;
  bool claimed_ = false;
  sessions::DialOrder order_;
  Target target_;
  // Writing: one at a time (Beast's rule).
  bool writing_ = false, closing_ = false, closed_sent_ = false, awaiting_ended_ = false;
  uint16_t close_code_ = 1000;
  std::string close_reason_;
  std::vector<std::string> pending_text_;
  std::string text_;
  std::vector<uint8_t> binary_;
  std::array<int16_t, kMaxBinaryBytes / 2> samples_{};
  uint64_t wake_value_ = 0;
  int64_t credit_ = 0;
  Clock::time_point credit_at_{};
};

// ---- AspFront -------------------------------------------------------------------------------

AspFront::AspFront(AspOptions options, media::MediaEngine& media,
                   sessions::SessionManager& sessions, MetricsRegistry& registry)
    : options_(std::move(options)),
      media_(media),
      sessions_(sessions),
      metrics_(registry),
      impl_(std::make_unique<Impl>()) {}

AspFront::~AspFront() {
  stop();
  // Connections still held by pending handlers die with the io_context, and they touch our
  // mutex and counters: destroy it while those exist.
  impl_.reset();
}

void AspFront::start() {
  impl_->work.emplace(net::make_work_guard(impl_->ioc));
  impl_->thread = std::thread([this] {
    for (;;) {
      try {
        impl_->ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("asp: unexpected exception on the I/O thread: {}", e.what());
      }
    }
  });
}

void AspFront::stop() {
  if (stopping_.exchange(true) || !impl_->thread.joinable()) return;
  std::vector<std::shared_ptr<AspLeg>> legs;
  std::vector<std::shared_ptr<Conn>> dialling;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, leg] : legs_) legs.push_back(leg);
    for (auto& [id, c] : dialling_) {
      if (auto conn = c.lock()) dialling.push_back(conn);
    }
  }
  for (auto& leg : legs) leg->executor().post([leg] { leg->hangup("shutdown"); });
  for (auto& c : dialling) net::post(impl_->ioc, [c] { c->shutdown(); });
  legs.clear();
  dialling.clear();
  // The hang-ups run on the workers within a tick; their session.ended and close frames
  // then go out on our thread. Wait for both, bounded.
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(mu_);
      if (legs_.empty() && open_ == 0) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  impl_->work.reset();
  impl_->ioc.stop();
  impl_->thread.join();
}

void AspFront::accept(const api::HttpRequest& request, int fd) {
  if (stopping_) {
    ::close(fd);
    return;
  }
  // The request as Beast wants it for the handshake reply (Sec-WebSocket-Key etc.).
  http::request<http::empty_body> req;
  req.method(http::verb::get);
  req.target(request.target);
  req.version(11);
  for (const auto& [k, v] : request.headers) req.insert(k, v);
  std::string user = "asp";
  if (auto it = request.query.find("to");
      it != request.query.end() && !it->second.empty() && it->second.size() <= kMaxStringBytes) {
    user = it->second;
  }
  const std::string remote = request.remote_address;
  const bool subprotocol = parse_subprotocols(request.header("Sec-WebSocket-Protocol")).asp;
  net::post(impl_->ioc, [this, req = std::move(req), user, remote, fd, subprotocol]() mutable {
    tcp::socket socket(impl_->ioc);
    beast::error_code ec;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    socket.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
    if (ec) {
      ::close(fd);
      return;
    }
    {
      std::lock_guard lock(mu_);
      if (open_ >= options_.max_sessions) {
        metrics_.refused.inc();
        return;  // the socket closes as it leaves scope
      }
    }
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
    socket.non_blocking(true, ec);
    auto conn = std::make_shared<Conn>(*this, std::move(socket), Role::kServer);
    conn->set_remote(remote);
    conn->accept(std::move(req), std::move(user), subprotocol);
  });
}

bool AspFront::claim(const std::string& id) {
  std::lock_guard lock(mu_);
  return ids_.insert(id).second;
}

void AspFront::release(const std::string& id) {
  std::lock_guard lock(mu_);
  ids_.erase(id);
}

bool AspFront::owns(const std::string& leg_id) const {
  std::lock_guard lock(mu_);
  return legs_.count(leg_id) > 0 || dialling_.count(leg_id) > 0;
}

std::shared_ptr<AspLeg> AspFront::make_leg(const LegInfo& info, Role role,
                                           std::shared_ptr<Channel> channel, Executor* near,
                                           bool transcripts) {
  media::MediaWorker& worker = media_.worker_for(near);
  auto leg =
      std::make_shared<AspLeg>(worker, std::move(channel),
                               AspLegParams{.info = info,
                                            .role = role,
                                            .silence_threshold_ms = options_.silence_threshold_ms,
                                            .transcripts = transcripts},
                               metrics_);
  const std::string id = info.id;
  leg->on_end([this, id, role](std::string_view reason, bool local) {
    std::shared_ptr<AspLeg> keep;  // dropped outside the lock
    {
      std::lock_guard lock(mu_);
      auto it = legs_.find(id);
      if (it != legs_.end()) {
        keep = std::move(it->second);
        legs_.erase(it);
      }
      if (role == Role::kServer) ids_.erase(id);
    }
    if (local) {
      spdlog::info("call={} event=local_hangup reason={}", id, reason);
      sessions_.store().add_event(id, std::chrono::system_clock::now(), "hangup",
                                  std::string(reason));
      sessions_.leg_ended(id, "local_hangup", 0);
    } else {
      sessions_.leg_ended(id, reason, 0);
    }
    // The leg may be running this very callback: let it return before it can be freed.
    if (keep) keep->executor().post([keep] {});
  });
  {
    std::lock_guard lock(mu_);
    legs_[id] = leg;
  }
  return leg;
}

// ---- client role ----------------------------------------------------------------------------

sessions::ControlResult<sessions::Done> AspFront::check(const std::string& to,
                                                        const std::string&) const {
  Target t;
  if (!parse_target(to, t)) {
    return sessions::ControlError{
        sessions::ControlErrc::kInvalid,
        "'" + to.substr(0, 80) + "' is not ws://HOST:PORT/PATH with a numeric address"};
  }
  if (t.secure) {
    return sessions::ControlError{sessions::ControlErrc::kInvalid,
                                  "wss:// is not supported by this version: use ws://"};
  }
  return sessions::Done{};
}

void AspFront::dial(sessions::DialOrder order) {
  const std::string id = order.leg_id;
  Target t;
  if (stopping_ || !parse_target(order.to, t) || t.secure) {
    sessions_.leg_ended(id, "failed", 0);
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (open_ >= options_.max_sessions) {
      metrics_.connect_failed.inc();
      sessions_.leg_ended(id, "failed", 0);
      return;
    }
  }
  sessions_.store().add_event(id, std::chrono::system_clock::now(), "dial", order.to);
  net::post(impl_->ioc, [this, order = std::move(order), t = std::move(t)]() mutable {
    auto conn = std::make_shared<Conn>(*this, tcp::socket(impl_->ioc), Role::kClient);
    {
      std::lock_guard lock(mu_);
      dialling_[order.leg_id] = conn;
    }
    conn->set_remote(t.host + ":" + std::to_string(t.port));
    conn->dial(std::move(order), std::move(t));
  });
}

void AspFront::hang_up(const std::string& leg_id) {
  std::shared_ptr<AspLeg> leg;
  std::shared_ptr<Conn> conn;
  {
    std::lock_guard lock(mu_);
    if (auto it = legs_.find(leg_id); it != legs_.end()) leg = it->second;
    if (auto it = dialling_.find(leg_id); it != dialling_.end()) conn = it->second.lock();
  }
  if (conn) net::post(impl_->ioc, [conn] { conn->cancel(); });
  if (leg) leg->executor().post([leg] { leg->hangup("hangup requested"); });
}

void AspFront::transfer(const std::string& leg_id, const std::string&) {
  sessions_.leg_transfer_progress(leg_id, 501);  // ASP has no transfer
}

}  // namespace atende::asp
