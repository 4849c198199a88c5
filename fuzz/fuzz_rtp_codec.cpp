// libFuzzer: every registered decoder on arbitrary payloads (as a hostile peer would send),
// interleaved with concealment; output must stay one bounded frame at the codec's rate.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "rtp/codec.h"

using namespace atende;
using namespace atende::rtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto all = codecs();
  const Codec* c = all[data[0] % all.size()];
  auto dec = c->make_decoder();
  size_t pos = 1;
  while (pos < size) {
    const size_t len = data[pos++] * 2u;  // up to 510 bytes: beyond one frame for all
    const size_t n = len < size - pos ? len : size - pos;
    AudioFrame frame;
    if (n == 0) {
      dec->conceal(frame);
    } else {
      const int got = dec->decode({data + pos, n}, frame);
      if (got < 0 || got > kMaxFrameSamples) abort();
    }
    if (frame.samples < 0 || frame.samples > kMaxFrameSamples) abort();
    if (frame.sample_rate != c->sample_rate) abort();
    pos += n;
  }
  return 0;
}
