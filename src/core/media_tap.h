// A listener on a leg's media as it crosses the wire, for call recording: every 20 ms tick
// the leg hands it what the far end said (`heard`) and what we sent (`sent`, nullptr for a
// tick with nothing to play: silence). Called on the leg's media thread, so it must copy
// and return: no lock held for long, no allocation, no I/O.
#pragma once
#include "core/audio_frame.h"

namespace atende {

class MediaTap {
 public:
  virtual ~MediaTap() = default;
  virtual void on_media(const AudioFrame& heard, const AudioFrame* sent) = 0;
};

}  // namespace atende
