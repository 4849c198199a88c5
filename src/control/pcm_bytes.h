// The bytes of the gRPC stream's audio (signed 16-bit little-endian mono PCM) to and from
// frames and clips, with the checks a controller's input needs: whole samples, the leg's
// frame size, a bounded clip, valid DTMF keys. Pure functions: unit-tested apart from gRPC.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "core/audio_frame.h"
#include "core/clip.h"

namespace atende::control {

constexpr int kMaxPlaySeconds = 30;    // a Play clip beyond this is refused
constexpr size_t kMaxSayChars = 1000;  // a Say text beyond this is refused
constexpr size_t kMaxDtmfDigits = 32;  // a SendDtmf beyond this is refused

// Exactly 20 ms at `rate` (8000 or 16000) into `out`; false (and why) otherwise.
bool pcm_to_frame(std::string_view bytes, int rate, AudioFrame& out, std::string* why);
// The frame's samples as bytes into `out` (resized, so reused buffers do not allocate).
void frame_to_pcm(const AudioFrame& frame, std::string& out);
// A clip of whole samples, at most kMaxPlaySeconds, at 8000 or 16000 Hz; nullptr (and why)
// otherwise.
ClipPtr pcm_to_clip(std::string_view bytes, int rate, std::string* why);
// 0-9, *, #, A-D only, at most kMaxDtmfDigits, not empty.
bool valid_dtmf(std::string_view digits);

}  // namespace atende::control
