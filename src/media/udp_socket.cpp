#include "media/udp_socket.h"

#include <unistd.h>

#include <boost/system/system_error.hpp>
#include <cerrno>
#include <utility>

namespace atende::media {
namespace {

[[noreturn]] void throw_errno(int err, const char* what) {
  throw boost::system::system_error(
      boost::system::error_code(err, boost::system::system_category()), what);
}

}  // namespace

UdpSocket::UdpSocket(const boost::asio::ip::udp::endpoint& local) {
  const int family = local.address().is_v6() ? AF_INET6 : AF_INET;
  fd_ = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw_errno(errno, "socket");
  if (::bind(fd_, local.data(), static_cast<socklen_t>(local.size())) != 0) {
    const int err = errno;
    close();
    throw_errno(err, "bind");
  }
}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void UdpSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool UdpSocket::send_to(std::span<const uint8_t> data, const boost::asio::ip::udp::endpoint& to) {
  if (fd_ < 0) return false;
  const ssize_t n = ::sendto(fd_, data.data(), data.size(), MSG_DONTWAIT, to.data(),
                             static_cast<socklen_t>(to.size()));
  return n == static_cast<ssize_t>(data.size());
}

ssize_t UdpSocket::receive_from(std::span<uint8_t> buf, boost::asio::ip::udp::endpoint& from) {
  if (fd_ < 0) return -1;
  socklen_t len = static_cast<socklen_t>(from.capacity());
  const ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), MSG_DONTWAIT, from.data(), &len);
  if (n < 0) return -1;
  from.resize(len);
  return n;
}

}  // namespace atende::media
