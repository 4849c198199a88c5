#include "media/port_pool.h"

namespace atende::media {

PortPool::PortPool(int min_port, int max_port) {
  int first = (min_port % 2) ? min_port + 1 : min_port;
  for (int p = first; p + 1 <= max_port; p += 2) free_.push_back(p);
}

std::optional<int> PortPool::acquire() {
  std::lock_guard lock(mu_);
  if (free_.empty()) return std::nullopt;
  int port = free_.front();
  free_.pop_front();
  return port;
}

void PortPool::release(int port) {
  std::lock_guard lock(mu_);
  free_.push_back(port);
}

size_t PortPool::available() {
  std::lock_guard lock(mu_);
  return free_.size();
}

}  // namespace atende::media
