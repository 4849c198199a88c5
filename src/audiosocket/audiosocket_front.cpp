#include "audiosocket/audiosocket_front.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

#include "core/call_id.h"

namespace atende::audiosocket {
namespace {

using Clock = std::chrono::steady_clock;

// Small kernel buffers: a peer that stops reading fills them in about a second of audio and
// our own bounded queue then says so (AudioSocketLeg::kOutCapacity), instead of megabytes of
// autotuned buffer hiding it for minutes.
constexpr int kSocketBuffer = 16384;

void tune(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
}

struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
};

// Numeric addresses only ("127.0.0.1", "::1", "localhost"): no blocking DNS on our threads.
bool to_sockaddr(const std::string& host, int port, SockAddr& out) {
  const std::string h = host == "localhost" ? "127.0.0.1" : host;
  if (port <= 0 || port > 65535) return false;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.ss);
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    out.len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.ss);
  if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    out.len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

std::string peer_name(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    port = ntohs(a->sin_port);
    return std::string(buf) + ":" + std::to_string(port);
  }
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    port = ntohs(a->sin6_port);
    return "[" + std::string(buf) + "]:" + std::to_string(port);
  }
  return "?";
}

std::string_view strip_scheme(std::string_view to) {
  if (to.rfind("audiosocket://", 0) == 0) return to.substr(14);
  if (to.rfind("audiosocket:", 0) == 0) return to.substr(12);
  return {};
}

// "HOST:PORT" of a target; false when malformed.
bool parse_target(std::string_view to, std::string& host, int& port) {
  std::string_view rest = strip_scheme(to);
  if (rest.empty() || rest.size() > 300) return false;
  try {
    HostPort hp = parse_host_port("to", std::string(rest));
    host = hp.host;
    port = hp.port;
  } catch (const std::exception&) {
    return false;
  }
  SockAddr sa;
  return to_sockaddr(host, port, sa);
}

std::array<uint8_t, kUuidSize> random_uuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::array<uint8_t, kUuidSize> u{};
  for (size_t i = 0; i < u.size(); i += 8) {
    uint64_t r = rng();
    std::memcpy(u.data() + i, &r, 8);
  }
  u[6] = static_cast<uint8_t>((u[6] & 0x0f) | 0x40);  // version 4
  u[8] = static_cast<uint8_t>((u[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return u;
}

void send_error(int fd, ErrorCode code, std::string_view why) {
  std::array<uint8_t, 3 + 64> buf{};
  std::array<uint8_t, 64> payload{};
  payload[0] = static_cast<uint8_t>(code);
  const size_t n = std::min(why.size(), payload.size() - 1);
  std::memcpy(payload.data() + 1, why.data(), n);
  const size_t len = write_frame(buf, static_cast<uint8_t>(Kind::kError), {payload.data(), n + 1});
  [[maybe_unused]] auto r = ::send(fd, buf.data(), len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

}  // namespace

bool is_audiosocket_target(std::string_view to) { return !strip_scheme(to).empty(); }

struct AudioSocketFront::Pending {
  int fd = -1;
  const Listener* listener = nullptr;
  std::string peer;
  Clock::time_point deadline;
  FrameReader reader;
};

struct AudioSocketFront::Connecting {
  int fd = -1;
  sessions::DialOrder order;
  std::string target;
  std::array<uint8_t, kUuidSize> uuid{};
  Clock::time_point deadline;
  bool cancelled = false;  // hung up before the far end accepted (under mu_)
};

AudioSocketFront::AudioSocketFront(AudioSocketOptions options, media::MediaEngine& media,
                                   sessions::SessionManager& sessions, MetricsRegistry& registry)
    : options_(std::move(options)), media_(media), sessions_(sessions), metrics_(registry) {}

AudioSocketFront::~AudioSocketFront() {
  stop();
  for (auto& l : listeners_) {
    if (l.fd >= 0) ::close(l.fd);
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void AudioSocketFront::start() {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  for (const auto& cfg : options_.listeners) {
    SockAddr sa;
    const std::string address = cfg.address.str();
    if (!to_sockaddr(cfg.address.host, cfg.address.port, sa)) {
      throw std::runtime_error("audiosocket_listen: " + address + " is not a numeric address");
    }
    int fd = ::socket(sa.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sa.ss), sa.len) != 0 ||
        ::listen(fd, 128) != 0) {
      const std::string err = std::strerror(errno);
      if (fd >= 0) ::close(fd);
      if (cfg.is_default) {
        spdlog::warn("audiosocket: default listener {} not bound ({}); set audiosocket_listen",
                     address, err);
        continue;
      }
      throw std::runtime_error("audiosocket_listen: cannot listen on " + address + ": " + err);
    }
    listeners_.push_back(Listener{fd, cfg, address});
    spdlog::info("audiosocket: listening on {} (default flow: {})", address,
                 cfg.flow.empty() ? "dial plan for \"audiosocket\"" : cfg.flow);
  }
  thread_ = std::thread([this] { run(); });
}

std::vector<std::string> AudioSocketFront::bound() const {
  std::vector<std::string> out;
  for (const auto& l : listeners_) out.push_back(l.address);
  return out;
}

void AudioSocketFront::wake() {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
}

void AudioSocketFront::stop() {
  if (stopping_.exchange(true)) return;
  wake();
  if (thread_.joinable()) thread_.join();
  for (auto& p : pending_) ::close(p->fd);
  pending_.clear();
  {
    std::lock_guard lock(mu_);
    for (auto& c : connect_queue_) {
      ::close(c->fd);
      sessions_.leg_ended(c->order.leg_id, "shutdown", 0);
    }
    connect_queue_.clear();
  }
  std::vector<std::shared_ptr<AudioSocketLeg>> legs;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, leg] : legs_) legs.push_back(leg);
  }
  for (auto& leg : legs) leg->executor().post([leg] { leg->hangup("shutdown"); });
  legs.clear();
  // The hang-ups run on the workers within a tick; wait for them (bounded) so the peers get
  // their 0x00 before the workers stop.
  for (int i = 0; i < 50; ++i) {
    {
      std::lock_guard lock(mu_);
      if (legs_.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool AudioSocketFront::owns(const std::string& leg_id) const {
  std::lock_guard lock(mu_);
  if (legs_.count(leg_id)) return true;
  for (const auto& c : connect_queue_) {
    if (c->order.leg_id == leg_id) return true;
  }
  return false;
}

// ---- the thread ---------------------------------------------------------------------------

void AudioSocketFront::run() {
  std::vector<pollfd> fds;
  std::vector<Connecting*> connecting;
  while (!stopping_) {
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    for (auto& l : listeners_) fds.push_back({l.fd, POLLIN, 0});
    for (auto& p : pending_) fds.push_back({p->fd, POLLIN, 0});
    connecting.clear();
    {
      std::lock_guard lock(mu_);
      for (auto& c : connect_queue_) connecting.push_back(c.get());
    }
    for (auto* c : connecting) fds.push_back({c->fd, POLLOUT, 0});
    ::poll(fds.data(), fds.size(), 200);
    if (stopping_) break;
    if (fds[0].revents) {
      uint64_t n;
      [[maybe_unused]] auto r = ::read(wake_fd_, &n, sizeof n);
    }
    size_t i = 1;
    for (auto& l : listeners_) {
      if (fds[i++].revents) accept_from(l);
    }
    const auto now = Clock::now();
    // Pending connections: read, time out. (Ones accepted just now are polled next turn.)
    const size_t pending_polled = fds.size() - 1 - listeners_.size() - connecting.size();
    std::vector<std::unique_ptr<Pending>> keep;
    for (size_t k = 0; k < pending_.size(); ++k) {
      auto& p = pending_[k];
      bool alive = true;
      if (k < pending_polled && fds[1 + listeners_.size() + k].revents) alive = read_pending(*p);
      if (alive && now > p->deadline) {
        refuse(*p, ErrorCode::kTimeout, "no UUID within the handshake time");
        alive = false;
      }
      if (alive) keep.push_back(std::move(p));
    }
    pending_ = std::move(keep);
    // Our outgoing connections.
    const size_t base = 1 + listeners_.size() + pending_polled;
    for (size_t k = 0; k < connecting.size(); ++k) {
      Connecting* c = connecting[k];
      const short ev = fds[base + k].revents;
      bool due;
      {
        std::lock_guard lock(mu_);  // hang_up() may move the deadline
        due = now > c->deadline;
      }
      if (!ev && !due) continue;
      int err = 0;
      socklen_t len = sizeof err;
      if (ev) ::getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      std::unique_ptr<Connecting> owned;
      {
        std::lock_guard lock(mu_);
        for (auto it = connect_queue_.begin(); it != connect_queue_.end(); ++it) {
          if (it->get() == c) {
            owned = std::move(*it);
            connect_queue_.erase(it);
            --connecting_;
            break;
          }
        }
      }
      if (owned) finish_connect(*owned, ev && err == 0 && !(ev & (POLLERR | POLLHUP)));
    }
  }
}

void AudioSocketFront::accept_from(Listener& l) {
  for (int i = 0; i < 32; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(l.fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    const std::string peer = peer_name(ss);
    if (pending_.size() >= kMaxPending || sessions_.draining()) {
      metrics_.refused.inc();
      spdlog::warn("audiosocket: {} from {} refused: {}", l.address, peer,
                   sessions_.draining() ? "shutting down" : "too many connections in handshake");
      send_error(fd, ErrorCode::kRefused, "busy");
      ::close(fd);
      continue;
    }
    tune(fd);
    auto p = std::make_unique<Pending>();
    p->fd = fd;
    p->listener = &l;
    p->peer = peer;
    p->deadline = Clock::now() + std::chrono::milliseconds(options_.handshake_ms);
    pending_.push_back(std::move(p));
  }
}

bool AudioSocketFront::read_pending(Pending& p) {
  auto room = p.reader.space();
  const ssize_t n = ::recv(p.fd, room.data(), room.size(), MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
  }
  if (n <= 0) {
    metrics_.refused.inc();
    spdlog::info("audiosocket: {} closed before its UUID{}", p.peer,
                 p.reader.pending() ? " (truncated message)" : "");
    ::close(p.fd);
    return false;
  }
  p.reader.commit(static_cast<size_t>(n));
  metrics_.bytes_in.inc(static_cast<uint64_t>(n));
  Frame f;
  const ReadStatus s = p.reader.next(f);
  if (s == ReadStatus::kNeedMore) return true;
  if (s != ReadStatus::kFrame) {
    metrics_.protocol_errors.inc();
    refuse(p, ErrorCode::kProtocol, to_string(s));
    return false;
  }
  metrics_.frames_in.inc();
  if (f.type != static_cast<uint8_t>(Kind::kUuid)) {
    metrics_.protocol_errors.inc();
    refuse(p, ErrorCode::kProtocol, "the first message must be the UUID, not " + kind_name(f.type));
    return false;
  }
  open_inbound(p, uuid_to_string(f.payload));
  return false;
}

void AudioSocketFront::refuse(Pending& p, ErrorCode code, const std::string& why) {
  metrics_.refused.inc();
  spdlog::warn("audiosocket: {} from {} refused: {}", p.listener->address, p.peer, why);
  send_error(p.fd, code, why);
  ::close(p.fd);
}

void AudioSocketFront::open_inbound(Pending& p, const std::string& uuid) {
  sessions::InboundRequest request;
  request.call_id = uuid;
  request.kind = "audiosocket";
  request.from = "audiosocket:" + p.peer;
  request.to = "audiosocket:" + p.listener->address;
  request.user = "audiosocket";
  request.flow = p.listener->config.flow;
  if (auto mapped = directory_.take(uuid)) {
    request.flow = mapped->flow;
    request.variables = std::move(mapped->variables);
  }
  bool in_use;
  {
    std::lock_guard lock(mu_);
    in_use = legs_.count(uuid) > 0;
  }
  if (in_use) {
    // The live call keeps its id; this attempt is recorded under a fresh one, with the
    // UUID it asked for as its `to`.
    sessions::InboundRequest dup = request;
    dup.call_id = new_call_id();
    dup.to = "audiosocket:" + uuid;
    sessions_.reject(dup, request.flow, 409, "UUID in use");
    refuse(p, ErrorCode::kUuidInUse, "UUID " + uuid + " is in use");
    return;
  }
  const sessions::Admission admission = sessions_.admit(request);
  if (!admission.ok) {
    sessions_.reject(request, admission.flow, admission.status, admission.phrase);
    refuse(p, ErrorCode::kRefused, admission.phrase);
    return;
  }
  const int fd = std::exchange(p.fd, -1);
  // What came after the UUID in the same read (audio, DTMF) goes to the leg.
  std::vector<uint8_t> rest(p.reader.unread().begin(), p.reader.unread().end());
  LegInfo info{uuid, "audiosocket", LegDirection::kInbound, request.from, request.to};
  auto leg = make_leg(info, fd, options_.leg_rate, nullptr);
  leg->preload(rest);
  metrics_.accepted.inc();
  spdlog::info("call={} event=audiosocket_connected from={} listener={} flow={}", uuid, p.peer,
               p.listener->address, admission.flow);
  sessions_.open_inbound(request, admission, &leg->executor());
  sessions_.leg_answered(leg, "audiosocket " + p.peer + " on " + p.listener->address);
}

std::shared_ptr<AudioSocketLeg> AudioSocketFront::make_leg(const LegInfo& info, int fd,
                                                           int peer_rate, Executor* near) {
  media::MediaWorker& worker = media_.worker_for(near);
  auto leg = std::make_shared<AudioSocketLeg>(
      worker,
      AudioSocketLegParams{
          .info = info, .fd = fd, .leg_rate = options_.leg_rate, .peer_rate = peer_rate},
      metrics_);
  const std::string id = info.id;
  leg->on_end([this, id](std::string_view reason, bool local) {
    std::shared_ptr<AudioSocketLeg> keep;  // dropped outside the lock
    {
      std::lock_guard lock(mu_);
      auto it = legs_.find(id);
      if (it != legs_.end()) {
        keep = std::move(it->second);
        legs_.erase(it);
      }
    }
    if (local) sessions_.note_local_hangup(id, reason);
    sessions_.leg_ended(id, local ? std::string_view("local_hangup") : reason, 0);
    // The leg may be running this very callback: let it return before it can be freed.
    if (keep) keep->executor().post([keep] {});
  });
  {
    std::lock_guard lock(mu_);
    legs_[id] = leg;
  }
  return leg;
}

// ---- client role --------------------------------------------------------------------------

sessions::ControlResult<sessions::Done> AudioSocketFront::check(const std::string& to,
                                                                const std::string&) const {
  std::string host;
  int port = 0;
  if (!parse_target(to, host, port)) {
    return sessions::ControlError{
        sessions::ControlErrc::kInvalid,
        "'" + to.substr(0, 80) + "' is not audiosocket:HOST:PORT with a numeric address"};
  }
  return sessions::Done{};
}

void AudioSocketFront::dial(sessions::DialOrder order) {
  const std::string id = order.leg_id;
  std::string host;
  int port = 0;
  SockAddr sa;
  if (stopping_ || !parse_target(order.to, host, port) || !to_sockaddr(host, port, sa)) {
    sessions_.leg_ended(id, "failed", 0);
    return;
  }
  int fd = ::socket(sa.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    sessions_.leg_ended(id, "failed", 0);
    return;
  }
  tune(fd);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa.ss), sa.len) != 0 && errno != EINPROGRESS) {
    spdlog::warn("call={} event=dial_failed to={}: {}", id, order.to, std::strerror(errno));
    ::close(fd);
    metrics_.connect_failed.inc();
    sessions_.leg_ended(id, "failed", 0);
    return;
  }
  auto c = std::make_unique<Connecting>();
  c->fd = fd;
  c->target = order.to;
  c->uuid = random_uuid();
  // Asterisk gives a connection 2 s; a dial may ring longer, but a TCP connect does not ring.
  c->deadline = Clock::now() +
                std::min<std::chrono::milliseconds>(order.ring_timeout, std::chrono::seconds(10));
  c->order = std::move(order);
  sessions_.store().add_event(id, std::chrono::system_clock::now(), "dial", c->target);
  {
    std::lock_guard lock(mu_);
    if (connecting_ >= kMaxConnecting) {
      ::close(fd);
      metrics_.connect_failed.inc();
      sessions_.leg_ended(id, "failed", 0);
      return;
    }
    ++connecting_;
    connect_queue_.push_back(std::move(c));
  }
  wake();
}

void AudioSocketFront::finish_connect(Connecting& c, bool ok) {
  const std::string id = c.order.leg_id;
  bool cancelled;
  {
    std::lock_guard lock(mu_);
    cancelled = c.cancelled;
  }
  if (cancelled) {
    ::close(c.fd);
    sessions_.leg_ended(id, "cancelled", 0);
    return;
  }
  std::array<uint8_t, kHeaderSize + kUuidSize> hello{};
  if (ok) {
    write_frame(hello, static_cast<uint8_t>(Kind::kUuid), c.uuid);
    ok = ::send(c.fd, hello.data(), hello.size(), MSG_DONTWAIT | MSG_NOSIGNAL) ==
         static_cast<ssize_t>(hello.size());
  }
  if (!ok) {
    spdlog::warn("call={} event=dial_failed to={}: cannot connect", id, c.target);
    ::close(c.fd);
    metrics_.connect_failed.inc();
    sessions_.leg_ended(id, "failed", 0);
    return;
  }
  metrics_.connected_out.inc();
  metrics_.frames_out.inc();
  const std::string uuid = uuid_to_string(c.uuid);
  spdlog::info("call={} event=audiosocket_connected_out to={} uuid={}", id, c.target, uuid);
  LegInfo info{id, "audiosocket", LegDirection::kOutbound, c.order.caller_id, c.target};
  auto leg = make_leg(info, std::exchange(c.fd, -1), options_.leg_rate, c.order.near);
  sessions_.store().add_event(id, std::chrono::system_clock::now(), "audiosocket_uuid", uuid);
  sessions_.leg_answered(leg, "audiosocket to " + c.target + " uuid " + uuid);
}

void AudioSocketFront::hang_up(const std::string& leg_id) {
  std::shared_ptr<AudioSocketLeg> leg;
  {
    std::lock_guard lock(mu_);
    auto it = legs_.find(leg_id);
    if (it != legs_.end()) leg = it->second;
    for (auto& c : connect_queue_) {
      if (c->order.leg_id != leg_id) continue;
      // Still connecting: the thread gives up on it at its next turn.
      c->cancelled = true;
      c->deadline = Clock::now();
    }
  }
  wake();
  if (leg) leg->executor().post([leg] { leg->hangup("hangup requested"); });
}

void AudioSocketFront::transfer(const std::string& leg_id, const std::string&) {
  // AudioSocket has no transfer: the asking flow hears a failure.
  sessions_.leg_transfer_progress(leg_id, 501);
}

}  // namespace atende::audiosocket
