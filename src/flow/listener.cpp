#include "flow/listener.h"

namespace atende::flow {

Listener::Listener(int sample_rate, TimerQueue* timers, Handler on_event)
    : on_event_(std::move(on_event)),
      // No partial transcripts in flows: a stretch long enough is an interruption.
      ear_({.turn = {.sample_rate = sample_rate}, .barge_in = {}},
           turn::make_default_vad(sample_rate), timers, *this) {}

}  // namespace atende::flow
