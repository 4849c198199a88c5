// Hands out even RTP ports (RTCP = port + 1) from the configured range. Thread-safe:
// the SIP thread allocates, media threads release. FIFO, so a released port is reused
// last and late packets of an old call do not land in a new one.
#pragma once
#include <deque>
#include <mutex>
#include <optional>

namespace atende::media {

class PortPool {
 public:
  PortPool(int min_port, int max_port);
  std::optional<int> acquire();  // nullopt when the range is exhausted
  void release(int port);
  size_t available();

 private:
  std::mutex mu_;
  std::deque<int> free_;
};

}  // namespace atende::media
