// The ASP front (asp_front.h): places connections on its I/O threads and keeps the registry
// of their sessions and legs. The connections themselves: asp_conn.h.
#include "asp/asp_front.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "asp/asp_conn.h"
#include "asp/asp_credentials.h"
#include "net/tls_client.h"

namespace atende::asp {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

bool is_asp_target(std::string_view to) {
  return to.rfind("ws://", 0) == 0 || to.rfind("wss://", 0) == 0;
}

// ---- AspFront -------------------------------------------------------------------------------

AspFront::AspFront(AspOptions options, media::MediaEngine& media,
                   sessions::SessionManager& sessions, MetricsRegistry& registry)
    : options_(std::move(options)),
      media_(media),
      sessions_(sessions),
      metrics_(registry),
      io_(std::make_unique<IoThreads>(options_.io_threads)) {}

AspFront::~AspFront() {
  stop();
  // Connections still held by pending handlers die with their io_context, and they touch our
  // mutex and counters: destroy the threads while those exist.
  io_.reset();
}

void AspFront::start() {
  // The TLS context is cached by CA file (net/tls_client.h): loading the system's store takes
  // milliseconds, spent here rather than on an I/O thread at the first wss:// dial. A CA
  // file that cannot be read is said now; every wss:// dial then fails with the reason.
  std::string error;
  if (!::atende::net::client_tls_context(options_.client_ca_file, error)) {
    spdlog::warn("asp: wss:// agents cannot be dialled: {}", error);
  }
  io_->start();
}

void AspFront::stop() {
  if (stopping_.exchange(true)) return;
  std::vector<std::shared_ptr<AspLeg>> legs;
  std::vector<std::pair<std::shared_ptr<Conn>, IoThread*>> dialling;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, leg] : legs_) legs.push_back(leg);
    for (auto& [id, d] : dialling_) {
      if (auto conn = d.conn.lock()) dialling.emplace_back(conn, d.thread);
    }
  }
  for (auto& leg : legs) leg->executor().post([leg] { leg->hangup("shutdown"); });
  for (auto& c : dialling) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one.
    net::post(c.second->context(), [conn = c.first] { conn->shutdown(); });
  }
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
  io_->stop();
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
  IoThread& thread = io_->pick();
  net::post(thread.context(),
            [this, &thread, req = std::move(req), user, remote, fd, subprotocol]() mutable {
              tcp::socket socket(thread.context());
              beast::error_code ec;
              sockaddr_storage ss{};
              socklen_t len = sizeof ss;
              ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
              socket.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
              if (ec) {
                thread.connections().fetch_sub(1, std::memory_order_relaxed);
                ::close(fd);
                return;
              }
              {
                std::lock_guard lock(mu_);
                if (open_ >= options_.max_sessions) {
                  thread.connections().fetch_sub(1, std::memory_order_relaxed);
                  metrics_.refused.inc();
                  return;  // the socket closes as it leaves scope
                }
              }
              socket.non_blocking(true, ec);
              auto conn = std::make_shared<Conn>(*this, thread, std::move(socket), Role::kServer);
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

// ---- client role ----------------------------------------------------------------------------

sessions::ControlResult<sessions::Done> AspFront::check(const std::string& to,
                                                        const std::string&) const {
  Target t;
  if (!parse_target(to, t)) {
    return sessions::ControlError{
        sessions::ControlErrc::kInvalid,
        "'" + to.substr(0, 80) + "' is not ws://HOST:PORT/PATH with a numeric address"};
  }
  return sessions::Done{};
}

void AspFront::dial(sessions::DialOrder order) {
  const std::string id = order.leg_id;
  Target t;
  if (stopping_ || !parse_target(order.to, t)) {
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
  IoThread& thread = io_->pick();
  net::post(thread.context(), [this, &thread, order = std::move(order),
                               t = std::move(t)]() mutable {
    auto conn = std::make_shared<Conn>(*this, thread, tcp::socket(thread.context()), Role::kClient);
    {
      std::lock_guard lock(mu_);
      dialling_[order.leg_id] = {conn, &thread};
    }
    conn->set_remote(t.host + ":" + std::to_string(t.port));
    std::shared_ptr<net::ssl::context> tls;
    std::string tls_error;
    if (t.secure) {
      // Cached since start(): no file is read here unless that failed.
      tls = ::atende::net::client_tls_context(options_.client_ca_file, tls_error);
    }
    conn->dial(std::move(order), std::move(t), std::move(tls), std::move(tls_error));
  });
}

void AspFront::hang_up(const std::string& leg_id) {
  std::shared_ptr<AspLeg> leg;
  std::shared_ptr<Conn> conn;
  IoThread* thread = nullptr;
  {
    std::lock_guard lock(mu_);
    if (auto it = legs_.find(leg_id); it != legs_.end()) leg = it->second;
    if (auto it = dialling_.find(leg_id); it != dialling_.end()) {
      conn = it->second.conn.lock();
      thread = it->second.thread;
    }
  }
  if (conn) net::post(thread->context(), [conn] { conn->cancel(); });
  if (leg) leg->executor().post([leg] { leg->hangup("hangup requested"); });
}

void AspFront::transfer(const std::string& leg_id, const std::string&) {
  sessions_.leg_transfer_progress(leg_id, 501);  // ASP has no transfer
}

}  // namespace atende::asp
