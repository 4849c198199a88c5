// The AudioSocket frame reader on arbitrary bytes, fed in chunks whose sizes the input's
// first byte chooses (a TCP stream splits anywhere). Also round-trips what it reads.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "audiosocket/frame.h"

using namespace atende::audiosocket;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0] % 64;
  FrameReader reader;
  std::vector<uint8_t> out(kMaxFrameSize);
  for (size_t off = 1; off < size;) {
    const size_t n = std::min(chunk, size - off);
    const size_t took = reader.append({data + off, n});
    off += took;
    Frame f;
    ReadStatus s;
    while ((s = reader.next(f)) == ReadStatus::kFrame) {
      if (f.payload.size() > kMaxPayload) __builtin_trap();
      if (write_frame(out, f.type, f.payload) != kHeaderSize + f.payload.size()) __builtin_trap();
      (void)uuid_to_string(f.payload);
      (void)kind_name(f.type);
    }
    if (s != ReadStatus::kNeedMore) return 0;  // the stream is over for good
    if (took == 0) __builtin_trap();           // a full buffer must always hold a frame
  }
  return 0;
}
