// baseline_udp_echo: the cheapest possible RTP "echo": one thread, one epoll, N UDP sockets
// on a port range, each datagram sent straight back to its sender. bench/echo_load.py drives
// it and atende's echo flow at the same packet rate to give a CPU-per-packet floor.
//
// Usage: baseline_udp_echo [--host 127.0.0.1] [--ports LO-HI]   (default 127.0.0.1 41000-41099)
// Prints "ready" on stdout once every socket is bound; stops on SIGINT/SIGTERM and prints
// the number of datagrams echoed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

bool ParseRange(const std::string& text, int& lo, int& hi) {
  return std::sscanf(text.c_str(), "%d-%d", &lo, &hi) == 2 && lo > 0 && hi >= lo && hi < 65536 &&
         hi - lo < 10000;
}

int BindUdp(const std::string& host, int port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int lo = 41000, hi = 41099;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--host") == 0) {
      host = argv[i + 1];
    } else if (std::strcmp(argv[i], "--ports") != 0 || !ParseRange(argv[i + 1], lo, hi)) {
      std::fprintf(stderr, "usage: %s [--host IP] [--ports LO-HI]\n", argv[0]);
      return 2;
    }
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  int epfd = epoll_create1(EPOLL_CLOEXEC);
  std::vector<int> sockets;
  for (int port = lo; port <= hi; ++port) {
    int fd = BindUdp(host, port);
    if (fd < 0) {
      std::fprintf(stderr, "baseline_udp_echo: bind %s:%d: %s\n", host.c_str(), port,
                   std::strerror(errno));
      return 1;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    sockets.push_back(fd);
  }
  std::printf("ready %s %d-%d\n", host.c_str(), lo, hi);
  std::fflush(stdout);

  uint64_t echoed = 0;
  std::vector<epoll_event> events(64);
  char buffer[2048];  // larger than any RTP packet we send; longer datagrams are truncated
  while (!g_stop) {
    int n = epoll_wait(epfd, events.data(), static_cast<int>(events.size()), 200);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      for (;;) {  // drain the socket: level-triggered, but fewer wakeups under load
        sockaddr_storage from{};
        socklen_t from_len = sizeof from;
        ssize_t len =
            recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
        if (len < 0) break;
        if (sendto(fd, buffer, static_cast<size_t>(len), 0, reinterpret_cast<sockaddr*>(&from),
                   from_len) == len) {
          ++echoed;
        }
      }
    }
  }
  std::printf("echoed %llu\n", static_cast<unsigned long long>(echoed));
  for (int fd : sockets) close(fd);
  close(epfd);
  return 0;
}
