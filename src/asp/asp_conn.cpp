#include "asp/asp_conn.h"

#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "asp/asp_credentials.h"
#include "core/call_id.h"
#include "net/tls_client.h"

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

AspFront::Conn::Conn(AspFront& front, IoThread& thread, Socket socket, Role role)
    : front_(front),
      thread_(thread),
      ws_(std::move(socket)),
      role_(role),
      start_timer_(ws_.get_executor()) {
  ws_.read_message_max(std::max(kMaxTextBytes, kMaxBinaryBytes));
  ws_.auto_fragment(false);
  binary_.reserve(sizeof(OutSlot::pcm));  // counted on thread_ by IoThreads::pick()
  {
    std::lock_guard lock(front_.mu_);
    ++front_.open_;
  }
}

AspFront::Conn::~Conn() {
  thread_.connections().fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard lock(front_.mu_);
  --front_.open_;
}

void AspFront::Conn::watch_writes() {
  // Weak: the stream's state outlives us while its last write completes.
  stream().on_socket_write([weak = weak_from_this()](bool started) {
    auto self = weak.lock();
    if (!self) return;
    if (started) {
      if (self->channel_) self->channel_->write_started(Clock::now());
      return;
    }
    if (self->channel_) self->channel_->write_done();
    self->pump();  // the backlog went out: the next batch may go
  });
}

void AspFront::Conn::accept(http::request<http::empty_body> req, std::string user,
                            bool subprotocol) {
  user_ = std::move(user);
  tune();
  watch_writes();
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

void AspFront::Conn::dial(sessions::DialOrder order, Target target,
                          std::shared_ptr<net::ssl::context> tls, std::string tls_error) {
  order_ = std::move(order);
  target_ = std::move(target);
  if (target_.secure && !tls) return dial_failed("tls: " + tls_error);
  if (tls) stream().use_tls(std::move(tls));
  watch_writes();
  session_id_ = random_uuid();
  state_ = State::kConnecting;
  // One budget for the TCP connect and the TLS handshake.
  const auto ring =
      std::min<std::chrono::milliseconds>(order_.ring_timeout, std::chrono::seconds(10));
  const auto deadline = Clock::now() + ring;
  beast::get_lowest_layer(ws_).expires_after(ring);
  tcp::endpoint ep(net::ip::make_address(target_.host), static_cast<uint16_t>(target_.port));
  beast::get_lowest_layer(ws_).async_connect(
      ep, [self = shared_from_this(), deadline](beast::error_code ec) {
        if (self->state_ == State::kDone) return;  // cancelled meanwhile
        if (ec) return self->dial_failed("cannot connect: " + ec.message());
        self->tune();
        beast::get_lowest_layer(self->ws_).expires_never();
        if (self->stream().tls()) return self->tls_handshake(deadline);
        self->ws_handshake();
      });
}

void AspFront::Conn::tls_handshake(Clock::time_point deadline) {
  auto& tls = *stream().tls();
  if (auto bad = ::atende::net::expect_peer(tls.native_handle(), target_.name); !bad.empty()) {
    return dial_failed("tls: " + bad);
  }
  // The socket is the raw one under TLS (no tcp_stream timeout): our timer closes it.
  tls_handshaking_ = true;
  start_timer_.expires_at(deadline);
  start_timer_.async_wait([self = shared_from_this()](beast::error_code e) {
    if (e || !self->tls_handshaking_) return;
    self->tls_handshaking_ = false;
    self->dial_failed("tls handshake with " + self->target_.name + ": timeout");
  });
  tls.async_handshake(
      net::ssl::stream_base::client, [self = shared_from_this()](beast::error_code ec) {
        if (!self->tls_handshaking_) return;  // timed out or cancelled
        self->tls_handshaking_ = false;
        self->start_timer_.cancel();
        if (self->state_ == State::kDone) return;
        if (ec) {
          // The log names the target: "tls: certificate rejected: <why>".
          return self->dial_failed(
              ::atende::net::describe_tls_failure(self->stream().tls()->native_handle(), ec));
        }
        self->ws_handshake();
      });
}

void AspFront::Conn::ws_handshake() {
  ws_.set_option(
      websocket::stream_base::timeout{std::chrono::seconds(5), std::chrono::seconds(20), true});
  const std::string token = front_.options_.client_token;
  ws_.set_option(websocket::stream_base::decorator([token](websocket::request_type& r) {
    r.set(http::field::user_agent, "atende");
    if (!token.empty()) r.set(http::field::authorization, "Bearer " + token);
  }));
  const std::string& h = target_.name;
  const std::string host =
      (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + std::to_string(target_.port);
  ws_.async_handshake(host, target_.path, [self = shared_from_this()](beast::error_code e) {
    if (self->state_ == State::kDone) return;
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
}

void AspFront::Conn::tune() {
  const int fd = beast::get_lowest_layer(ws_).socket().native_handle();
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void AspFront::Conn::cancel() {
  if (state_ == State::kDone || state_ == State::kActive) return;
  dial_failed("cancelled", "cancelled");
}

void AspFront::Conn::shutdown() {
  if (state_ == State::kActive || state_ == State::kDone) return;  // the leg ends it
  if (role_ == Role::kClient) return dial_failed("shutdown", "shutdown");
  state_ = State::kDone;
  close_with(websocket::close_code::going_away, "shutdown");
}

void AspFront::Conn::read() {
  ws_.async_read(
      rbuf_, [self = shared_from_this()](beast::error_code ec, size_t n) { self->on_read(ec, n); });
}

void AspFront::Conn::on_read(beast::error_code ec, size_t n) {
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

void AspFront::Conn::on_socket_end(const beast::error_code& ec) {
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
}

void AspFront::Conn::on_binary(std::string_view bytes) {
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
  // Little-endian on the wire, whatever the host.
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(samples_.data(), bytes.data(), count * 2);
  } else {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    for (size_t i = 0; i < count; ++i) {
      samples_[i] = static_cast<int16_t>(uint16_t(p[2 * i]) | uint16_t(p[2 * i + 1]) << 8);
    }
  }
  if (const size_t dropped = channel_->push_audio(samples_.data(), count, now)) {
    front_.metrics_.catch_up_drops.inc(dropped);
  }
}

void AspFront::Conn::on_text(std::string_view text) {
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

void AspFront::Conn::on_server_message(const Message& m) {
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

void AspFront::Conn::start_session(const Message& m) {
  start_timer_.cancel();
  if (!m.version.empty() && version_major(m.version) != kVersionMajor) {
    return fail(Error::kUnsupported,
                "version " + m.version.substr(0, 32) + " is not supported; this server speaks 1.x");
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

void AspFront::Conn::on_client_message(const Message& m) {
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

void AspFront::Conn::answered() {
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

void AspFront::Conn::dial_failed(const std::string& why, const char* outcome) {
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

void AspFront::Conn::fail(Error e, const std::string& detail) {
  if (state_ == State::kDone || state_ == State::kEnding) return;
  spdlog::warn("asp: session {} from {}: {}: {}", session_id_.empty() ? "-" : session_id_, remote_,
               error_code(e), detail);
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

}  // namespace atende::asp
