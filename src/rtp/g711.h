// ITU-T G.711 companding (µ-law and A-law), following the ITU/Sun reference code that every
// implementation is checked against. Input is 16-bit linear PCM.
#pragma once
#include <cstdint>

namespace atende::rtp::g711 {

uint8_t linear_to_ulaw(int16_t pcm);
int16_t ulaw_to_linear(uint8_t code);
uint8_t linear_to_alaw(int16_t pcm);
int16_t alaw_to_linear(uint8_t code);

}  // namespace atende::rtp::g711
