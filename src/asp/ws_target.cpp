#include "asp/ws_target.h"

#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <cstring>
#include <random>

namespace atende::asp {

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
  t.name = t.host;
  if (t.host == "localhost") t.host = "127.0.0.1";
  boost::system::error_code ec;
  boost::asio::ip::make_address(t.host, ec);
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

}  // namespace atende::asp
