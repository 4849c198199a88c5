// A bound, non-blocking UDP socket that no reactor watches. Media sockets are polled from
// the worker's tick, so registering them with an event loop (as an Asio socket does at open)
// only costs: every arriving datagram then runs the epoll callback and can wake the worker
// out of its timer sleep for nothing. A raw descriptor keeps arrival as cheap as it can be.
#pragma once
#include <sys/socket.h>

#include <boost/asio/ip/udp.hpp>
#include <cstddef>
#include <cstdint>
#include <span>

namespace atende::media {

class UdpSocket {
 public:
  UdpSocket() = default;
  // Opens and binds; throws boost::system::system_error (e.g. address in use).
  explicit UdpSocket(const boost::asio::ip::udp::endpoint& local);
  ~UdpSocket() { close(); }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  UdpSocket(UdpSocket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  UdpSocket& operator=(UdpSocket&& other) noexcept;

  int fd() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  void close();

  // Fire and forget: a full socket buffer drops the datagram, which is right for media.
  bool send_to(std::span<const uint8_t> data, const boost::asio::ip::udp::endpoint& to);
  // One datagram or nothing (-1 when the socket is empty); `from` gets the sender.
  ssize_t receive_from(std::span<uint8_t> buf, boost::asio::ip::udp::endpoint& from);

 private:
  int fd_ = -1;
};

}  // namespace atende::media
