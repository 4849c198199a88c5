#include "asp/asp_leg.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "audio/resampler.h"

namespace atende::asp {

AspLeg::AspLeg(media::MediaWorker& worker, std::shared_ptr<Channel> channel, AspLegParams p,
               AspMetrics& metrics)
    : worker_(&worker),
      channel_(std::move(channel)),
      metrics_(metrics),
      role_(p.role),
      transcripts_(p.transcripts && p.role == Role::kServer),
      vad_(audio::EnergyVadOptions{.sample_rate = channel_->rate()}),
      silence_threshold_ms_(std::max(p.silence_threshold_ms, 20)),
      playout_(channel_->rate()),
      info_(std::move(p.info)) {
  heard_ = AudioFrame::silence(channel_->rate());
  speak_ = AudioFrame::silence(channel_->rate());
  metrics_.active.inc();
}

AspLeg::~AspLeg() { metrics_.active.dec(); }

void AspLeg::start() {
  if (started_ || closed_) return;
  started_ = true;
  started_at_ = MonoClock::now();
  worker().add(this);
}

bool AspLeg::move_to(Executor& executor) {
  if (closed_) return false;
  return media::move_to_worker(this, worker_, executor, started_,
                               [self = shared_from_this()](media::MediaWorker& to) {
                                 if (!self->closed_) to.add(self.get());
                               });
}

SessionStats AspLeg::stats(MonoTime now) const {
  SessionStats s;
  if (started_at_ != MonoTime{}) {
    s.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - started_at_).count();
  }
  s.audio_in_ms = audio_in_frames_ * 20;
  s.audio_out_ms = audio_out_frames_ * 20;
  s.responses = responses_;
  s.barge_ins = barge_ins_;
  s.audio_ends = audio_ends_;
  return s;
}

void AspLeg::finish(std::string_view reason, bool local) {
  if (started_) worker().remove(this);
  started_ = false;
  if (auto fn = std::move(on_end_)) {
    on_end_ = nullptr;
    fn(reason, local);
  }
}

void AspLeg::close(std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  spdlog::info("call={} event=asp_closed reason={}", info_.id, reason);
  LegListener* l = std::exchange(listener_, nullptr);
  if (l) l->on_hangup(reason);
  finish(reason, false);
}

void AspLeg::end_local(std::string_view reason, std::string_view detail, bool abort) {
  channel_->set_local_end(std::string(reason), std::string(detail), stats(MonoClock::now()), abort);
  channel_->wake();
}

void AspLeg::hangup(std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  listener_ = nullptr;  // our own hang-up: the listener already knows
  if (responding_) end_response(true);
  // The peer hears "local_hangup" (or "shutdown") and, as detail, why.
  end_local(reason == "shutdown" ? "shutdown" : "local_hangup", reason, false);
  finish(reason, true);
}

bool AspLeg::push_out(OutKind kind, const AudioFrame* frame, bool interrupted, char digit) {
  const int64_t id = response_id_;
  auto fill = [&](OutSlot& s) {
    s.kind = kind;
    s.interrupted = interrupted;
    s.digit = digit;
    s.response_id = id;
    s.samples = 0;
    if (frame) {
      s.samples = static_cast<uint16_t>(std::min<int>(frame->samples, int(s.pcm.size())));
      std::copy_n(frame->pcm.data(), s.samples, s.pcm.data());
    }
  };
  bool ok = channel_->push_out(fill);
  if (!ok && !closed_ && channel_->write_pending_for(MonoClock::now()) < kPeerStuckAfter &&
      channel_->drop_oldest_out_audio()) {
    // No write waits on the socket: our I/O thread is behind, the peer is not at fault. The
    // oldest of our audio goes instead of the session.
    metrics_.out_drops.inc();
    ok = channel_->push_out(fill);
  }
  if (!ok && !closed_) {
    // Every slot is waiting for the socket: the peer has stopped reading what we send.
    metrics_.not_reading.inc();
    spdlog::warn("call={} event=asp_not_reading", info_.id);
    end_local("peer_not_reading", "", /*abort=*/true);
    close("peer_not_reading");
  }
  return ok;
}

void AspLeg::end_response(bool interrupted) {
  if (!responding_) return;
  responding_ = false;
  push_out(OutKind::kResponseEnd, nullptr, interrupted);
}

// --- tick -------------------------------------------------------------------------------

void AspLeg::handle_event(const InEvent& e, MonoTime now) {
  switch (e.kind) {
    case InKind::kDtmf:
      if (listener_) listener_->on_dtmf(e.digit, now);
      return;
    case InKind::kAudioEnd:
      // The peer's VAD: counted and logged; our own turn detection decides on the audio.
      ++audio_ends_;
      return;
    case InKind::kBargeIn:
      // The caller spoke over our response: stop it now, as the flow's own barge-in would.
      ++barge_ins_;
      metrics_.barge_ins.inc();
      spdlog::info("call={} event=asp_barge_in_received responding={}", info_.id, responding_);
      playout_.clear();
      end_response(true);
      return;
    case InKind::kSessionEnd:
      if (responding_) end_response(true);
      end_local("hangup", "", false);  // session.ended answers it
      close("hangup");
      return;
    case InKind::kResponseStart:
      agent_responding_ = true;
      ++responses_;
      return;
    case InKind::kResponseEnd:
      agent_responding_ = false;
      return;
  }
}

void AspLeg::tick(MonoTime now) {
  if (closed_) return;
  InEvent e;
  while (!closed_ && channel_->pop_event(e)) handle_event(e, now);
  if (closed_) return;
  std::string reason;
  if (channel_->ended(&reason)) {
    close(reason);
    return;
  }

  // The peer sends in real time: tick soon after its audio arrives, not up to 20 ms later
  // (read_phase.h). Waits are measured to this tick's slot, so our own lateness is no phase.
  if (const MonoTime at = channel_->take_new_arrival(); at != MonoTime{}) {
    read_phase_.on_read(std::chrono::duration_cast<std::chrono::nanoseconds>(now - at).count());
  }
  read_phase_.apply(worker(), this, metrics_.phase_moves);

  // What the peer said in this slot; silence when its audio has not come (yet).
  const int rate = channel_->rate();
  const size_t want = static_cast<size_t>(samples_per_frame(rate));
  heard_.sample_rate = rate;
  heard_.samples = static_cast<int>(want);
  bool got = false;
  MonoTime received{};  // when the frame's last sample came off the WebSocket
  if (!prebuffering_ || channel_->queued() >= want * kPrebufferFrames) {
    got = channel_->pop_audio(heard_.pcm.data(), want, &received);
    prebuffering_ = !got;
  }
  if (got) {
    ++audio_in_frames_;
  } else {
    std::fill_n(heard_.pcm.data(), want, int16_t{0});
    metrics_.underruns.inc();
  }
  if (role_ == Role::kServer && !prebuffering_) {
    if (const size_t excess = backlog_trim_.on_tick(channel_->queued() / want)) {
      metrics_.backlog_drops.inc(channel_->drop_oldest(excess * want) / want);
    }
  }
  if (listener_) {
    if (got && received != MonoTime{}) {
      metrics_.frame_to_flow.observe(
          std::chrono::duration<double>(MonoClock::now() - received).count());
    }
    listener_->on_frame(heard_, now);
  }
  if (closed_) return;

  const bool had_audio = playout_.next(speak_);
  if (media_tap_) media_tap_->on_media(heard_, had_audio ? &speak_ : nullptr);
  if (role_ == Role::kServer) {
    // Our response: framed by response.start / response.end, nothing between responses.
    if (had_audio) {
      if (!responding_) {
        responding_ = true;
        ++response_id_;
        ++responses_;
        if (!push_out(OutKind::kResponseStart)) return;
      }
      if (!push_out(OutKind::kAudio, &speak_)) return;
      ++audio_out_frames_;
    } else {
      end_response(false);
    }
  } else {
    // The caller's audio: a steady stream, silence included, as a media server sends it.
    if (!had_audio) std::fill_n(speak_.pcm.data(), speak_.samples, int16_t{0});
    client_vad(speak_);
    if (closed_) return;
    if (!push_out(OutKind::kAudio, &speak_)) return;
    ++audio_out_frames_;
  }
  if (closed_) return;
  channel_->wake();
  if (had_audio && playout_.empty() && listener_) listener_->on_playout_idle(now);
}

void AspLeg::client_vad(const AudioFrame& frame) {
  const bool speech = vad_.process(frame).speech;
  if (speech) {
    silence_ms_ = 0;
    if (!speaking_) {
      speaking_ = true;
      if (agent_responding_) {
        // The caller talks over the agent: tell it, and drop what it already sent.
        ++barge_ins_;
        metrics_.barge_ins.inc();
        spdlog::info("call={} event=asp_barge_in_sent", info_.id);
        agent_responding_ = false;
        channel_->drop_audio();
        push_out(OutKind::kBargeIn);
      }
    }
    return;
  }
  if (!speaking_) return;
  silence_ms_ += 20;
  if (silence_ms_ >= silence_threshold_ms_) {
    speaking_ = false;
    ++audio_ends_;
    push_out(OutKind::kAudioEnd);
  }
}

// --- Leg ----------------------------------------------------------------------------------

void AspLeg::play(ClipPtr clip) {
  if (closed_ || !clip) return;
  if (clip->sample_rate != channel_->rate()) {
    auto c = std::make_shared<Clip>();
    c->sample_rate = channel_->rate();
    c->label = clip->label;
    c->pcm = audio::Resampler::convert(clip->pcm, clip->sample_rate, channel_->rate());
    clip = std::move(c);
  }
  if (!playout_.push_clip(std::move(clip))) {
    spdlog::warn("call={} event=playout_full dropped a clip", info_.id);
  }
}

void AspLeg::play_frame(const AudioFrame& frame) {
  if (closed_ || frame.sample_rate != channel_->rate()) return;
  playout_.push_frame(frame);
}

void AspLeg::flush() {
  playout_.clear();
  if (role_ == Role::kServer) end_response(true);
}

void AspLeg::note_transcript(Speaker who, std::string_view text) {
  if (!transcripts_ || closed_ || text.empty()) return;
  const bool ok = channel_->push_out([&](OutSlot& s) {
    s.kind = OutKind::kTranscript;
    s.digit = who == Speaker::kCaller ? 'c' : 'a';
    set_slot_text(s, text);
  });
  if (ok) {
    channel_->wake();
  } else if (!closed_) {
    metrics_.not_reading.inc();  // as push_out(): every slot waits for the socket
    end_local("peer_not_reading", "", /*abort=*/true);
    close("peer_not_reading");
  }
}

void AspLeg::send_dtmf(char digit) {
  if (closed_ || !valid_digit(digit)) return;
  if (push_out(OutKind::kDtmf, nullptr, false, digit)) channel_->wake();
}

}  // namespace atende::asp
