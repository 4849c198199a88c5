// Buffers every leg on a worker uses only during its own tick: the recvmmsg batch, the packet
// being sent, the frames heard and spoken in this 20 ms. One set per worker instead of one
// per leg keeps them hot in the cache (a thousand legs' private buffers were cold at every
// tick, and the kernel's copy into them showed up as the dearest part of receiving) and
// takes kilobytes off each call.
#pragma once
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <array>
#include <cstdint>

#include "core/audio_frame.h"

namespace atende::media {

struct MediaScratch {
  static constexpr int kBatch = 4;  // packets per recvmmsg
  std::array<std::array<uint8_t, 1500>, kBatch> rx_bufs{};
  std::array<sockaddr_storage, kBatch> rx_addrs{};
  std::array<iovec, kBatch> rx_iov{};
  std::array<mmsghdr, kBatch> rx_msgs{};
  std::array<std::array<char, CMSG_SPACE(sizeof(timespec))>, kBatch> rx_control{};
  std::array<uint8_t, 1500> rtcp_buf{};
  std::array<uint8_t, 1500> tx_buf{};
  AudioFrame heard{};
  AudioFrame speak{};
};

}  // namespace atende::media
