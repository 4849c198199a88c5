// libFuzzer: telephone-event receiver fed a stream of (timestamp, payload) packets cut from
// the input, with ticks in between; digits must be DTMF characters and the queue bounded.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "rtp/rfc4733.h"

using namespace atende;
using namespace atende::rtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DtmfReceiver rx(Millis(100));
  int64_t now_ms = 0;
  uint32_t ts = 0;
  size_t pos = 0;
  while (pos < size) {
    // Record: 1 byte length (0..15), 2 bytes timestamp delta, payload.
    const size_t len = data[pos] & 0x0F;
    const bool tick = data[pos] & 0x10;
    ++pos;
    uint32_t ts_delta = 0;
    for (int i = 0; i < 2 && pos < size; ++i, ++pos) ts_delta = (ts_delta << 8) | data[pos];
    const size_t n = len < size - pos ? len : size - pos;
    ts += ts_delta;
    rx.on_packet(ts, {data + pos, n}, MonoTime(std::chrono::milliseconds(now_ms)));
    pos += n;
    now_ms += 20;
    if (tick) rx.on_tick(MonoTime(std::chrono::milliseconds(now_ms + 200)));
    char d;
    while (rx.pop(d))
      if (!std::strchr("0123456789*#ABCD", d) || d == '\0') abort();
  }

  // The sender must never write past the buffer and must finish.
  DtmfSender tx;
  for (size_t i = 0; i < size && i < 8; ++i) tx.queue(static_cast<char>(data[i]));
  uint8_t buf[4];
  DtmfPacket p;
  for (int tick = 0; tick < 2000 && tx.busy(); ++tick)
    if (tx.next(static_cast<uint32_t>(tick) * 160, buf, p) && p.size > sizeof(buf)) abort();
  if (tx.busy()) abort();
  return 0;
}
