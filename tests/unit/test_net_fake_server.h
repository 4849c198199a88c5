// A scripted HTTP/1.1 server on 127.0.0.1 for tests of HTTP clients: each request is
// recorded and answered by a handler that returns the exact bytes to send, step by step with
// pauses between them (streamed bodies, stalls mid-stream, garbage, closing without answer).
// Plain POSIX sockets, one thread per connection, Connection: close.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace atende::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;  // "/v1/audio/transcriptions"
  std::string head;    // request line and headers, raw
  std::string body;

  // Case-insensitive header lookup; "" if absent.
  std::string header(const std::string& name) const {
    std::string lower_head = lower(head), key = "\r\n" + lower(name) + ":";
    auto pos = lower_head.find(key);
    if (pos == std::string::npos) return {};
    pos += key.size();
    auto end = head.find("\r\n", pos);
    std::string v = head.substr(pos, end - pos);
    while (!v.empty() && v.front() == ' ') v.erase(v.begin());
    return v;
  }
  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
};

struct ReplyStep {
  std::chrono::milliseconds delay{0};  // wait this long, then send `bytes`
  std::string bytes;
};

struct Reply {
  std::vector<ReplyStep> steps;  // empty: close the connection without answering

  // A complete response with Content-Length.
  static Reply full(int status, const std::string& content_type, const std::string& body) {
    Reply r;
    r.steps.push_back({{},
                       "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " +
                           content_type + "\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\nConnection: close\r\n\r\n" + body});
    return r;
  }
  static Reply json(int status, const std::string& body) {
    return full(status, "application/json", body);
  }
  // Head of a chunked response; add chunks with chunk(), end with last_chunk().
  static Reply chunked_head(int status, const std::string& content_type) {
    Reply r;
    r.steps.push_back({{},
                       "HTTP/1.1 " + std::to_string(status) +
                           " X\r\nContent-Type: " + content_type +
                           "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"});
    return r;
  }
  Reply& chunk(const std::string& data, std::chrono::milliseconds delay = {}) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    steps.push_back({delay, size + data + "\r\n"});
    return *this;
  }
  Reply& last_chunk(std::chrono::milliseconds delay = {}) {
    steps.push_back({delay, "0\r\n\r\n"});
    return *this;
  }
  Reply& pause(std::chrono::milliseconds delay) {
    steps.push_back({delay, ""});
    return *this;
  }
};

class FakeHttpServer {
 public:
  using Handler = std::function<Reply(const ReceivedRequest&, int index)>;

  explicit FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 64) != 0)
      throw std::runtime_error("fake server: bind/listen failed");
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~FakeHttpServer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    acceptor_.join();
    for (auto& t : connections_) t.join();
    ::close(fd_);
  }

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<ReceivedRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int count() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(requests_.size());
  }

 private:
  bool stopping() {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  void accept_loop() {
    while (!stopping()) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      connections_.emplace_back([this, c] { serve(c); });
    }
  }

  // Reads one request (head + Content-Length body). False if the peer went away.
  bool read_request(int c, ReceivedRequest& req) {
    std::string buf;
    char tmp[65536];
    size_t head_end = std::string::npos;
    size_t need = 0;
    while (!stopping()) {
      if (head_end != std::string::npos && buf.size() >= head_end + 4 + need) break;
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf.append(tmp, static_cast<size_t>(n));
      if (head_end == std::string::npos && (head_end = buf.find("\r\n\r\n")) != std::string::npos) {
        req.head = buf.substr(0, head_end + 2);
        std::string cl = req.header("Content-Length");
        need = cl.empty() ? 0 : std::stoul(cl);
      }
    }
    if (head_end == std::string::npos) return false;
    req.body = buf.substr(head_end + 4, need);
    auto sp1 = req.head.find(' '), sp2 = req.head.find(' ', sp1 + 1);
    req.method = req.head.substr(0, sp1);
    req.target = req.head.substr(sp1 + 1, sp2 - sp1 - 1);
    return true;
  }

  void serve(int c) {
    ReceivedRequest req;
    if (read_request(c, req)) {
      int index;
      {
        std::lock_guard lock(mutex_);
        index = static_cast<int>(requests_.size());
        requests_.push_back(req);
      }
      Reply reply = handler_(req, index);
      for (const auto& step : reply.steps) {
        std::unique_lock lock(mutex_);
        if (cv_.wait_for(lock, step.delay, [this] { return stopping_; })) break;
        lock.unlock();
        if (!step.bytes.empty() &&
            ::send(c, step.bytes.data(), step.bytes.size(), MSG_NOSIGNAL) < 0)
          break;
      }
    }
    ::shutdown(c, SHUT_RDWR);
    ::close(c);
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<ReceivedRequest> requests_;
  std::thread acceptor_;
  std::vector<std::thread> connections_;  // only touched by the acceptor and the destructor
};

}  // namespace atende::testing
