// Two legs of one session connected to each other: what one hears, the other is played;
// a key pressed on one is sent to the other. Both legs live on the same executor (the
// session's media worker), so a frame goes from one leg's tick straight into the other's
// playout queue with no lock and no allocation; rates that differ (G.722 and G.711) are
// converted by one resampler per direction, made when the bridge is.
//
// The bridge is both legs' listener while it stands. It does not own the legs; when
// either side hangs up it calls `ended(side)` and listens no more: the session decides
// what happens to the other side.
#pragma once
#include <array>
#include <functional>
#include <memory>
#include <string_view>

#include "audio/resampler.h"
#include "core/leg.h"

namespace atende::sessions {

class Bridge {
 public:
  // side: 0 for `a`, 1 for `b`.
  using Ended = std::function<void(int side, std::string_view reason)>;
  // Executor thread. Takes over both legs' listeners at once.
  Bridge(Leg& a, Leg& b, Ended ended);
  ~Bridge();  // lets go of both legs (listeners cleared) if still attached
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // Executor thread: stop listening to both legs (they go silent until someone else listens).
  void release();
  Leg& leg(int side) { return *sides_[side].self; }
  uint64_t frames(int side) const { return sides_[side].frames; }

 private:
  struct Side final : LegListener {
    Bridge* bridge = nullptr;
    int index = 0;
    Leg* self = nullptr;
    Leg* other = nullptr;
    std::unique_ptr<audio::Resampler> convert;  // only when the rates differ
    AudioFrame converted;
    uint64_t frames = 0;
    bool attached = false;
    void on_frame(const AudioFrame& heard, MonoTime now) override;
    void on_dtmf(char digit, MonoTime now) override;
    void on_hangup(std::string_view reason) override;
  };
  std::array<Side, 2> sides_;
  Ended ended_;
};

}  // namespace atende::sessions
