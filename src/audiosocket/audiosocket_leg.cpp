#include "audiosocket/audiosocket_leg.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace atende::audiosocket {
namespace {

// When what `msg` read reached the host, on the monotonic clock: its kernel receive timestamp
// (wall clock, mapped through the offset between the clocks now), else now. `age_ns`: how
// long it waited to be read, -1 without a usable timestamp.
MonoTime received_at(msghdr& msg, int64_t& age_ns) {
  age_ns = -1;
  const MonoTime mono_now = MonoClock::now();
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS) continue;
    timespec stamp, real_now;
    std::memcpy(&stamp, CMSG_DATA(cm), sizeof stamp);
    clock_gettime(CLOCK_REALTIME, &real_now);
    const int64_t age = (int64_t(real_now.tv_sec) - stamp.tv_sec) * 1'000'000'000 +
                        (real_now.tv_nsec - stamp.tv_nsec);
    if (age >= 0 && age < 1'000'000'000) {
      age_ns = age;
      return mono_now -
             std::chrono::duration_cast<MonoClock::duration>(std::chrono::nanoseconds(age));
    }
  }
  return mono_now;
}

bool valid_digit(char c) {
  return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
}

}  // namespace

AudioSocketLeg::AudioSocketLeg(media::MediaWorker& worker, AudioSocketLegParams p,
                               AudioSocketMetrics& metrics)
    : worker_(&worker),
      metrics_(metrics),
      fd_(p.fd),
      leg_rate_(p.leg_rate),
      peer_rate_(p.peer_rate),
      in_ring_(static_cast<size_t>(p.leg_rate) * kMaxQueuedInMs / 1000),
      playout_(p.leg_rate),
      info_(std::move(p.info)) {
  heard_ = AudioFrame::silence(leg_rate_);
  metrics_.active.inc();
  // Kernel receive timestamps on what we read (TCP: of the newest segment in a read), for
  // atende_media_frame_to_flow_seconds.
  const int one = 1;
  if (fd_ >= 0) ::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
}

AudioSocketLeg::~AudioSocketLeg() {
  if (fd_ >= 0) ::close(fd_);
  metrics_.active.dec();
}

void AudioSocketLeg::preload(std::span<const uint8_t> bytes) {
  read_at_ = MonoClock::now();  // read just now by the front-end
  reader_.append(bytes);
}

void AudioSocketLeg::start() {
  if (started_ || closed_) return;
  started_ = true;
  worker().add(this);
}

bool AudioSocketLeg::move_to(Executor& executor) {
  if (closed_) return false;
  return media::move_to_worker(this, worker_, executor, started_,
                               [self = shared_from_this()](media::MediaWorker& to) {
                                 if (!self->closed_) to.add(self.get());
                               });
}

void AudioSocketLeg::stop_io() {
  if (started_) worker().remove(this);
  started_ = false;
  if (fd_ >= 0) {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    fd_ = -1;
  }
}

void AudioSocketLeg::finish(std::string_view reason, bool local) {
  if (auto fn = std::move(on_end_)) {
    on_end_ = nullptr;
    fn(reason, local);
  }
}

void AudioSocketLeg::close(std::string_view reason, const ErrorCode* error) {
  if (closed_) return;
  closed_ = true;
  if (error && fd_ >= 0) {
    // Best effort: the error goes out after whatever is queued, if the socket takes it now.
    std::array<uint8_t, 64> payload{};
    payload[0] = static_cast<uint8_t>(*error);
    const size_t n = std::min(reason.size(), payload.size() - 1);
    std::memcpy(payload.data() + 1, reason.data(), n);
    queue_out(static_cast<uint8_t>(Kind::kError), {payload.data(), n + 1});
    flush_out();
  }
  stop_io();
  spdlog::info("call={} event=audiosocket_closed reason={}", info_.id, reason);
  LegListener* l = std::exchange(listener_, nullptr);
  if (l) l->on_hangup(reason);
  finish(reason, false);
}

void AudioSocketLeg::hangup(std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  listener_ = nullptr;  // our own hang-up: the listener already knows
  if (fd_ >= 0) {
    queue_out(static_cast<uint8_t>(Kind::kHangup), {});
    flush_out();
  }
  stop_io();
  finish(reason, true);
}

// --- receive -------------------------------------------------------------------------

void AudioSocketLeg::read_socket(MonoTime now) {
  for (int i = 0; i < kMaxReadsPerTick && !eof_ && !closed_; ++i) {
    auto room = reader_.space();
    if (room.empty()) break;  // a whole frame is buffered: handle it first
    iovec iov{room.data(), room.size()};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(timespec))> control;
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT);
    int64_t age_ns = -1;
    if (n > 0) read_at_ = received_at(msg, age_ns);
    // The peer's audio tells its phase (a read is the peer's newest frame, or several after a
    // stall: a wait of a period or more, which ReadPhase ignores).
    if (age_ns >= 0) {
      read_phase_.on_read(age_ns);
    }
    if (n == 0) {
      eof_ = true;
    } else if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      // A peer that closes with our audio unread resets the connection: gone all the same.
      close(errno == ECONNRESET || errno == EPIPE ? "disconnected" : "socket_error");
      return;
    } else {
      reader_.commit(static_cast<size_t>(n));
      metrics_.bytes_in.inc(static_cast<uint64_t>(n));
    }
    Frame f;
    ReadStatus s;
    while ((s = reader_.next(f)) == ReadStatus::kFrame) {
      metrics_.frames_in.inc();
      on_message(f, now);
      if (closed_) return;
    }
    if (s != ReadStatus::kNeedMore) {
      metrics_.protocol_errors.inc();
      spdlog::warn("call={} event=audiosocket_protocol_error error={}", info_.id, to_string(s));
      const ErrorCode code = ErrorCode::kProtocol;
      close(std::string("protocol_error: ") + to_string(s), &code);
      return;
    }
    if (static_cast<size_t>(n) < room.size()) break;  // the socket is drained
  }
  if (eof_ && !closed_) {
    if (reader_.pending() > 0) {
      metrics_.protocol_errors.inc();
      close("protocol_error: truncated_frame");
    } else {
      close("disconnected");  // closed without a hang-up message
    }
  }
}

void AudioSocketLeg::on_message(const Frame& f, MonoTime now) {
  if (const int rate = audio_rate(f.type)) {
    on_audio(rate, f.payload);
    return;
  }
  switch (static_cast<Kind>(f.type)) {
    case Kind::kHangup:
      close("hangup");
      return;
    case Kind::kDtmf: {
      const char digit = static_cast<char>(f.payload[0]);
      if (!valid_digit(digit)) {
        spdlog::debug("call={} event=audiosocket_bad_dtmf byte={}", info_.id, int(f.payload[0]));
        return;
      }
      if (listener_) listener_->on_dtmf(digit, now);
      return;
    }
    case Kind::kError: {
      const int code = f.payload.empty() ? -1 : f.payload[0];
      spdlog::warn("call={} event=audiosocket_peer_error code={}", info_.id, code);
      close("peer_error");
      return;
    }
    case Kind::kUuid:  // a second UUID: Asterisk never sends one; ignore rather than guess
    default:
      return;
  }
}

void AudioSocketLeg::on_audio(int rate, std::span<const uint8_t> payload) {
  const size_t count = payload.size() / 2;
  for (size_t i = 0; i < count; ++i) {  // little-endian on the wire, whatever the host
    samples_[i] =
        static_cast<int16_t>(uint16_t(payload[2 * i]) | uint16_t(payload[2 * i + 1]) << 8);
  }
  std::span<const int16_t> pcm{samples_.data(), count};
  if (rate != peer_rate_) peer_rate_ = rate;  // we answer in the format the peer speaks
  if (rate != leg_rate_) {
    if (!in_resampler_ || in_resampler_->from_rate() != rate) {
      in_resampler_ = std::make_unique<audio::Resampler>(rate, leg_rate_);  // on a change only
    }
    auto r = in_resampler_->process(pcm, convert_);
    pcm = {convert_.data(), r.written};
  }
  queue_in(pcm);
}

void AudioSocketLeg::queue_in(std::span<const int16_t> pcm) {
  if (closed_) return;
  // Real time is what the monotonic clock says, not how many ticks ran (a stalled worker
  // skips ticks): the bucket refills at the leg's rate up to kMaxAheadMs.
  const MonoTime now = MonoClock::now();
  const int64_t cap = int64_t(leg_rate_) * kMaxAheadMs / 1000;
  if (credit_at_ == MonoTime{}) {
    credit_ = cap;
  } else {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - credit_at_);
    credit_ = std::min(cap, credit_ + us.count() * leg_rate_ / 1'000'000);
  }
  credit_at_ = now;
  credit_ -= static_cast<int64_t>(pcm.size());
  if (credit_ < 0) {
    // More than kMaxAheadMs ahead of real time: Asterisk never does that.
    metrics_.too_fast.inc();
    spdlog::warn("call={} event=audiosocket_too_fast queued_ms={}", info_.id,
                 in_size_ * 1000 / leg_rate_);
    const ErrorCode code = ErrorCode::kTooFast;
    close("too_fast", &code);
    return;
  }
  const size_t max_latency = static_cast<size_t>(leg_rate_) * kMaxLatencyMs / 1000;
  if (in_size_ + pcm.size() > std::min(in_ring_.size(), max_latency)) {
    // Waited too long: drop the oldest whole frames down to kCatchUpToMs.
    const size_t frame = static_cast<size_t>(samples_per_frame(leg_rate_));
    const size_t keep = static_cast<size_t>(leg_rate_) * kCatchUpToMs / 1000;
    const size_t target = keep > pcm.size() ? keep - pcm.size() : 0;
    while (in_size_ > target && in_size_ >= frame) {
      in_head_ = (in_head_ + frame) % in_ring_.size();
      in_size_ -= frame;
      consumed_in(frame);
      metrics_.catch_up_drops.inc();
    }
    backlog_trim_.reset();
    if (in_size_ + pcm.size() > in_ring_.size()) return;  // a frame larger than the ring
  }
  size_t tail = (in_head_ + in_size_) % in_ring_.size();
  for (int16_t s : pcm) {
    in_ring_[tail] = s;
    if (++tail == in_ring_.size()) tail = 0;
  }
  in_size_ += pcm.size();
  in_queued_ += pcm.size();
  // This read's receive time covers the samples up to in_queued_: a new entry, or the newest
  // one grown when it is the same read (several frames in one read) or the table is full.
  if (stamps_size_ > 0 &&
      (stamps_size_ == in_stamps_.size() ||
       in_stamps_[(stamps_head_ + stamps_size_ - 1) % in_stamps_.size()].at == read_at_)) {
    in_stamps_[(stamps_head_ + stamps_size_ - 1) % in_stamps_.size()].end = in_queued_;
  } else {
    in_stamps_[(stamps_head_ + stamps_size_) % in_stamps_.size()] = {in_queued_, read_at_};
    ++stamps_size_;
  }
}

void AudioSocketLeg::drop_oldest_in(size_t frames) {
  const size_t frame = static_cast<size_t>(samples_per_frame(leg_rate_));
  for (; frames > 0 && in_size_ >= frame; --frames) {
    in_head_ = (in_head_ + frame) % in_ring_.size();
    in_size_ -= frame;
    consumed_in(frame);
    metrics_.backlog_drops.inc();
  }
}

void AudioSocketLeg::consumed_in(size_t samples) {
  in_consumed_ += samples;
  while (stamps_size_ > 0 && in_stamps_[stamps_head_].end <= in_consumed_) {
    stamps_head_ = (stamps_head_ + 1) % in_stamps_.size();
    --stamps_size_;
  }
}

// --- tick ------------------------------------------------------------------------------

void AudioSocketLeg::tick(MonoTime now) {
  if (closed_) return;
  read_socket(now);
  if (closed_) return;
  read_phase_.apply(worker(), this, metrics_.phase_moves);

  // What the peer said in this slot; silence when its audio has not come (yet).
  const size_t want = static_cast<size_t>(samples_per_frame(leg_rate_));
  heard_.sample_rate = leg_rate_;
  heard_.samples = static_cast<int>(want);
  MonoTime received{};  // when the frame's last sample reached the host
  if (in_size_ >= want) {
    for (size_t i = 0; i < want; ++i) {
      heard_.pcm[i] = in_ring_[in_head_];
      if (++in_head_ == in_ring_.size()) in_head_ = 0;
    }
    in_size_ -= want;
    consumed_in(want - 1);  // the entry covering the frame's last sample is now the first
    if (stamps_size_ > 0) received = in_stamps_[stamps_head_].at;
    consumed_in(1);
  } else {
    std::fill_n(heard_.pcm.data(), want, int16_t{0});
    metrics_.underruns.inc();
  }
  if (const size_t excess = backlog_trim_.on_tick(in_size_ / want)) drop_oldest_in(excess);
  if (listener_) {
    if (received != MonoTime{}) {
      metrics_.frame_to_flow.observe(
          std::chrono::duration<double>(MonoClock::now() - received).count());
    }
    listener_->on_frame(heard_, now);
  }
  if (closed_) return;

  // What we say in this slot: always a frame, silence included, as Asterisk expects a
  // steady stream.
  const bool had_audio = playout_.next(speak_);
  if (!had_audio) std::fill_n(speak_.pcm.data(), speak_.samples, int16_t{0});
  if (media_tap_) media_tap_->on_media(heard_, had_audio ? &speak_ : nullptr);
  write_audio(speak_);
  if (closed_) return;
  if (had_audio && playout_.empty() && listener_) listener_->on_playout_idle(now);
}

// --- send ------------------------------------------------------------------------------

void AudioSocketLeg::write_audio(const AudioFrame& frame) {
  std::span<const int16_t> pcm = frame.data();
  if (peer_rate_ != leg_rate_) {
    if (!out_resampler_ || out_resampler_->to_rate() != peer_rate_) {
      out_resampler_ = std::make_unique<audio::Resampler>(leg_rate_, peer_rate_);
    }
    auto r = out_resampler_->process(pcm, convert_);
    pcm = {convert_.data(), r.written};
  }
  const uint8_t type = audio_kind_for_rate(peer_rate_);
  const size_t bytes = pcm.size() * 2;
  if (out_.size() - out_end_ < kHeaderSize + bytes && out_begin_ > 0) {
    std::memmove(out_.data(), out_.data() + out_begin_, out_end_ - out_begin_);
    out_end_ -= out_begin_;
    out_begin_ = 0;
  }
  if (out_.size() - out_end_ < kHeaderSize + bytes) {
    // A second of our audio is waiting in our queue on top of the kernel's: the peer has
    // stopped reading.
    metrics_.not_reading.inc();
    spdlog::warn("call={} event=audiosocket_not_reading queued_bytes={}", info_.id,
                 out_end_ - out_begin_);
    close("peer_not_reading");
    return;
  }
  uint8_t* p = out_.data() + out_end_;
  write_header(p, type, bytes);
  p += kHeaderSize;
  for (int16_t s : pcm) {
    *p++ = static_cast<uint8_t>(uint16_t(s) & 0xff);
    *p++ = static_cast<uint8_t>(uint16_t(s) >> 8);
  }
  out_end_ += kHeaderSize + bytes;
  metrics_.frames_out.inc();
  flush_out();
}

bool AudioSocketLeg::queue_out(uint8_t type, std::span<const uint8_t> payload) {
  if (out_.size() - out_end_ < kHeaderSize + payload.size() && out_begin_ > 0) {
    std::memmove(out_.data(), out_.data() + out_begin_, out_end_ - out_begin_);
    out_end_ -= out_begin_;
    out_begin_ = 0;
  }
  const size_t n = write_frame({out_.data() + out_end_, out_.size() - out_end_}, type, payload);
  if (n == 0) return false;
  out_end_ += n;
  metrics_.frames_out.inc();
  return true;
}

void AudioSocketLeg::flush_out() {
  while (out_begin_ < out_end_ && fd_ >= 0) {
    const ssize_t n =
        ::send(fd_, out_.data() + out_begin_, out_end_ - out_begin_, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n <= 0) return;  // EAGAIN: the rest waits for the next tick; errors show on reading
    out_begin_ += static_cast<size_t>(n);
    metrics_.bytes_out.inc(static_cast<uint64_t>(n));
  }
  if (out_begin_ == out_end_) out_begin_ = out_end_ = 0;
}

// --- Leg -------------------------------------------------------------------------------

void AudioSocketLeg::play(ClipPtr clip) {
  if (closed_ || !clip) return;
  if (clip->sample_rate != leg_rate_) {
    auto c = std::make_shared<Clip>();
    c->sample_rate = leg_rate_;
    c->label = clip->label;
    c->pcm = audio::Resampler::convert(clip->pcm, clip->sample_rate, leg_rate_);
    clip = std::move(c);
  }
  if (!playout_.push_clip(std::move(clip))) {
    spdlog::warn("call={} event=playout_full dropped a clip", info_.id);
  }
}

void AudioSocketLeg::play_frame(const AudioFrame& frame) {
  if (closed_ || frame.sample_rate != leg_rate_) return;
  playout_.push_frame(frame);
}

void AudioSocketLeg::send_dtmf(char digit) {
  if (closed_ || !valid_digit(digit)) return;
  const uint8_t d = static_cast<uint8_t>(digit);
  queue_out(static_cast<uint8_t>(Kind::kDtmf), {&d, 1});
}

}  // namespace atende::audiosocket
