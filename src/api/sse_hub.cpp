#include "api/sse_hub.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <deque>
#include <optional>
#include <thread>
#include <vector>

namespace atende::api {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// The response head: no Content-Length, so the body runs until either side closes
// (Connection: close); no-cache and X-Accel-Buffering keep proxies from holding events.
constexpr const char* kHead =
    "HTTP/1.1 200 OK\r\n"
    "Server: atende\r\n"
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-cache\r\n"
    "X-Accel-Buffering: no\r\n"
    "Connection: close\r\n"
    "\r\n";

struct Client {
  explicit Client(net::io_context& ioc) : socket(ioc) {}
  tcp::socket socket;
  std::deque<std::shared_ptr<const std::string>> queue;
  size_t queued_bytes = 0;
  bool writing = false;
  bool closed = false;
  std::array<char, 512> scratch{};  // what the client sends is read and discarded
};

}  // namespace

struct SseHub::Impl {
  explicit Impl(SseHubOptions o) : options(o) {
    if (MetricsRegistry* m = options.metrics) {
      clients_gauge = &m->gauge("atende_sse_clients", "Clients connected to GET /api/events.");
      dropped_slow =
          &m->counter("atende_sse_dropped_clients_total",
                      "Event-stream clients dropped by the server.", {{"reason", "slow"}});
      dropped_overflow =
          &m->counter("atende_sse_dropped_clients_total",
                      "Event-stream clients dropped by the server.", {{"reason", "overflow"}});
      events = &m->counter("atende_sse_events_total",
                           "Events sent on GET /api/events (per event, "
                           "not per client).");
    }
  }

  SseHubOptions options;
  net::io_context ioc{1};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  net::steady_timer ping{ioc};
  std::thread thread;
  std::atomic<bool> started{false};              // read by post()/adopt() on any thread
  std::vector<std::shared_ptr<Client>> clients;  // hub thread only
  std::atomic<size_t> client_count{0};
  std::atomic<size_t> posted{0};
  std::atomic<bool> overflowed{false};
  Gauge* clients_gauge = nullptr;
  Counter* dropped_slow = nullptr;
  Counter* dropped_overflow = nullptr;
  Counter* events = nullptr;

  void close(const std::shared_ptr<Client>& c) {
    if (c->closed) return;
    c->closed = true;
    boost::system::error_code ignored;
    c->socket.close(ignored);
    c->queue.clear();
    std::erase(clients, c);
    client_count.fetch_sub(1);
    if (clients_gauge) clients_gauge->add(-1);
  }

  void enqueue(const std::shared_ptr<Client>& c, std::shared_ptr<const std::string> bytes) {
    if (c->closed) return;
    if (c->queued_bytes + bytes->size() > options.max_queued_bytes) {
      spdlog::warn("http: event stream client dropped: {} bytes unread", c->queued_bytes);
      if (dropped_slow) dropped_slow->inc();
      return close(c);
    }
    c->queued_bytes += bytes->size();
    c->queue.push_back(std::move(bytes));
    if (!c->writing) write_next(c);
  }

  void write_next(const std::shared_ptr<Client>& c) {
    c->writing = true;
    net::async_write(c->socket, net::buffer(*c->queue.front()),
                     [this, c](const boost::system::error_code& ec, size_t) {
                       if (ec || c->closed) return close(c);
                       c->queued_bytes -= c->queue.front()->size();
                       c->queue.pop_front();
                       c->writing = false;
                       if (!c->queue.empty()) write_next(c);
                     });
  }

  // Reading tells us when the client goes away; what it sends means nothing here.
  void read_next(const std::shared_ptr<Client>& c) {
    c->socket.async_read_some(net::buffer(c->scratch),
                              [this, c](const boost::system::error_code& ec, size_t) {
                                if (ec || c->closed) return close(c);
                                read_next(c);
                              });
  }

  void to_all(std::shared_ptr<const std::string> bytes) {
    // A copy: enqueue may close (and erase) clients while we walk.
    const auto all = clients;
    for (const auto& c : all) enqueue(c, bytes);
  }

  void schedule_ping() {
    ping.expires_after(options.ping_interval);
    ping.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      to_all(std::make_shared<const std::string>(": ping\n\n"));
      schedule_ping();
    });
  }

  void drop_all_for_overflow() {
    if (clients.empty()) return;
    spdlog::warn("http: event stream backlog overflowed: dropping {} clients (they reconnect)",
                 clients.size());
    if (dropped_overflow) dropped_overflow->inc(clients.size());
    const auto all = clients;
    for (const auto& c : all) close(c);
  }

  void adopt(int fd, const std::function<std::string()>& first) {
    if (clients.size() >= options.max_clients) {
      ::close(fd);
      return;
    }
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(fd);
      return;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    auto c = std::make_shared<Client>(ioc);
    boost::system::error_code ec;
    c->socket.assign(addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
    if (ec) {
      ::close(fd);
      return;
    }
    clients.push_back(c);
    client_count.fetch_add(1);
    if (clients_gauge) clients_gauge->add(1);
    std::string opening = kHead;
    opening += "data: " + first() + "\n\n";
    enqueue(c, std::make_shared<const std::string>(std::move(opening)));
    read_next(c);
  }
};

SseHub::SseHub(SseHubOptions options) : impl_(std::make_shared<Impl>(options)) {}

SseHub::~SseHub() { stop(); }

void SseHub::start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->schedule_ping();
  impl_->thread = std::thread([impl = impl_.get()] {
    for (;;) {
      try {
        impl->ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("http: unexpected exception on the event stream thread: {}", e.what());
      }
    }
  });
}

void SseHub::stop() {
  if (!impl_->started) return;
  impl_->started = false;
  net::post(impl_->ioc, [impl = impl_.get()] {
    impl->ping.cancel();
    const auto all = impl->clients;
    for (const auto& c : all) impl->close(c);
  });
  impl_->work.reset();
  impl_->thread.join();  // the posted close runs; the cancelled handlers finish
}

bool SseHub::can_accept() const {
  return impl_->started && impl_->client_count.load() < impl_->options.max_clients;
}

size_t SseHub::clients() const { return impl_->client_count.load(); }

void SseHub::adopt(int fd, std::function<std::string()> first) {
  if (!impl_->started) {
    ::close(fd);
    return;
  }
  net::post(impl_->ioc,
            [impl = impl_.get(), fd, first = std::move(first)] { impl->adopt(fd, first); });
}

bool SseHub::post(std::function<void()> task) {
  if (!impl_->started) return false;
  if (impl_->posted.fetch_add(1) >= impl_->options.max_posted) {
    impl_->posted.fetch_sub(1);
    impl_->overflowed = true;
    return false;
  }
  net::post(impl_->ioc, [impl = impl_.get(), task = std::move(task)] {
    impl->posted.fetch_sub(1);
    if (impl->overflowed.exchange(false)) impl->drop_all_for_overflow();
    task();
  });
  return true;
}

void SseHub::broadcast(const std::string& json) {
  if (impl_->events) impl_->events->inc();
  impl_->to_all(std::make_shared<const std::string>("data: " + json + "\n\n"));
}

}  // namespace atende::api
