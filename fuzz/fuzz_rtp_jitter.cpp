// libFuzzer: jitter buffer driven by an arbitrary sequence of puts (sequence, timestamp,
// payload size, arrival step) and gets. Depth must stay within capacity and every payload
// handed out must be one that was put, intact.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "rtp/jitter_buffer.h"

using namespace atende;
using namespace atende::rtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  JitterBufferConfig cfg;
  cfg.target_ms = 20 + (data[0] % 8) * 20;
  cfg.max_ms = 40 + (data[1] % 16) * 20;
  cfg.adaptive = data[1] & 0x80;
  JitterBuffer jb(cfg);
  std::vector<uint8_t> payload(600);
  int64_t now_us = 0;
  size_t pos = 2;
  while (pos < size) {
    const uint8_t op = data[pos++];
    if (op & 1) {  // get
      const JitterFrame f = jb.get();
      if (f.kind == JitterFrame::Kind::kPayload) {
        // Payload bytes are derived from the sequence number: check they survived.
        for (size_t i = 0; i < f.payload.size(); ++i)
          if (f.payload[i] != static_cast<uint8_t>(f.sequence + i)) abort();
      }
      now_us += 20'000;
      continue;
    }
    if (op & 2) jb.reset();
    if (size - pos < 4) break;
    const uint16_t seq = static_cast<uint16_t>((data[pos] << 8) | data[pos + 1]);
    const uint32_t ts = static_cast<uint32_t>(seq) * 160u + data[pos + 2];
    const size_t len = static_cast<size_t>(data[pos + 3]) * 3;  // up to 765: some too large
    pos += 4;
    for (size_t i = 0; i < len && i < payload.size(); ++i)
      payload[i] = static_cast<uint8_t>(seq + i);
    now_us += (op >> 2) * 1000;
    jb.put(seq, ts, {payload.data(), len < payload.size() ? len : payload.size()},
           MonoTime(std::chrono::microseconds(now_us)), op & 4);
    if (jb.depth_frames() > jb.capacity_frames()) abort();
    if (jb.target_frames() >= jb.capacity_frames()) abort();
  }
  return 0;
}
