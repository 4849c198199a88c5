#include "sessions/bridge.h"

namespace atende::sessions {

Bridge::Bridge(Leg& a, Leg& b, Ended ended) : ended_(std::move(ended)) {
  Leg* legs[2] = {&a, &b};
  for (int i = 0; i < 2; ++i) {
    Side& s = sides_[i];
    s.bridge = this;
    s.index = i;
    s.self = legs[i];
    s.other = legs[1 - i];
    if (s.self->sample_rate() != s.other->sample_rate()) {
      s.convert = std::make_unique<audio::Resampler>(s.self->sample_rate(), s.other->sample_rate());
    }
    s.attached = true;
    s.self->set_listener(&s);
  }
}

Bridge::~Bridge() { release(); }

void Bridge::release() {
  for (auto& s : sides_) {
    if (!s.attached) continue;
    s.attached = false;
    s.self->set_listener(nullptr);
  }
}

void Bridge::Side::on_frame(const AudioFrame& heard, MonoTime) {
  ++frames;
  if (!convert) {
    other->play_frame(heard);
    return;
  }
  if (convert->process(heard, converted)) other->play_frame(converted);
}

void Bridge::Side::on_dtmf(char digit, MonoTime) { other->send_dtmf(digit); }

void Bridge::Side::on_hangup(std::string_view reason) {
  // The leg already forgot us (no callback follows a hang-up): only the other side is ours.
  attached = false;
  Side& peer = bridge->sides_[1 - index];
  if (peer.attached) {
    peer.attached = false;
    peer.self->set_listener(nullptr);
  }
  if (bridge->ended_) bridge->ended_(index, reason);
}

}  // namespace atende::sessions
