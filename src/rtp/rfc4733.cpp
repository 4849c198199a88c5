#include "rtp/rfc4733.h"

#include <algorithm>

#include "rtp/byte_io.h"

namespace atende::rtp {

namespace {
constexpr char kDigits[] = "0123456789*#ABCD";
constexpr uint8_t kDtmfEvents = 16;
}  // namespace

bool parse_telephone_event(std::span<const uint8_t> payload, TelephoneEvent& out) {
  if (payload.size() < kTelephoneEventSize) return false;
  out.event = payload[0];
  out.end = (payload[1] & 0x80) != 0;
  out.volume = payload[1] & 0x3F;  // bit 6 is reserved
  out.duration = detail::load16(payload.data() + 2);
  return true;
}

size_t write_telephone_event(std::span<uint8_t> out, const TelephoneEvent& event) {
  if (out.size() < kTelephoneEventSize) return 0;
  out[0] = event.event;
  out[1] = static_cast<uint8_t>((event.end ? 0x80 : 0) | (event.volume & 0x3F));
  detail::store16(out.data() + 2, event.duration);
  return kTelephoneEventSize;
}

char event_to_digit(uint8_t event) { return event < kDtmfEvents ? kDigits[event] : '\0'; }

int digit_to_event(char digit) {
  if (digit >= 'a' && digit <= 'd') digit = static_cast<char>(digit - 'a' + 'A');
  for (int i = 0; i < kDtmfEvents; ++i)
    if (kDigits[i] == digit) return i;
  return -1;
}

// ---- receiver ----

void DtmfReceiver::report(uint8_t event) {
  reported_ = true;
  if (queue_size_ == queue_.size()) return;  // nobody pops: drop rather than grow
  queue_[(queue_head_ + queue_size_) % queue_.size()] = event_to_digit(event);
  ++queue_size_;
}

void DtmfReceiver::on_packet(uint32_t rtp_timestamp, std::span<const uint8_t> payload,
                             MonoTime now) {
  TelephoneEvent ev;
  if (!parse_telephone_event(payload, ev)) {
    ++malformed_;
    return;
  }
  if (ev.event >= kDtmfEvents) return;  // flash, tones...: not a key press

  if (have_event_ && rtp_timestamp == current_ts_) {
    // Same key press: an update or a (repeated) end packet.
    last_packet_ = now;
    if (ev.end && !reported_) report(current_event_);
    return;
  }
  for (size_t i = 0; i < recent_count_; ++i)
    if (recent_ts_[i] == rtp_timestamp) return;  // a straggler of a finished press

  if (have_event_) {
    // The stream moved on: if all end packets of the previous press were lost, it still
    // counts once.
    if (!reported_) report(current_event_);
    recent_ts_[recent_next_] = current_ts_;
    recent_next_ = (recent_next_ + 1) % recent_ts_.size();
    recent_count_ = std::min(recent_count_ + 1, recent_ts_.size());
  }
  have_event_ = true;
  reported_ = false;
  current_ts_ = rtp_timestamp;
  current_event_ = ev.event;
  last_packet_ = now;
  if (ev.end) report(current_event_);  // only end packets of this press reached us
}

void DtmfReceiver::on_tick(MonoTime now) {
  if (have_event_ && !reported_ && now - last_packet_ >= end_timeout_) report(current_event_);
}

bool DtmfReceiver::pop(char& digit) {
  if (queue_size_ == 0) return false;
  digit = queue_[queue_head_];
  queue_head_ = (queue_head_ + 1) % queue_.size();
  --queue_size_;
  return true;
}

void DtmfReceiver::reset() {
  const Millis timeout = end_timeout_;
  const uint64_t malformed = malformed_;
  *this = DtmfReceiver(timeout);
  malformed_ = malformed;
}

// ---- sender ----

bool DtmfSender::queue(char digit) {
  const int event = digit_to_event(digit);
  if (event < 0 || queue_size_ == queue_.size()) return false;
  queue_[(queue_head_ + queue_size_) % queue_.size()] = static_cast<uint8_t>(event);
  ++queue_size_;
  return true;
}

bool DtmfSender::next(uint32_t tick_timestamp, std::span<uint8_t> out, DtmfPacket& packet) {
  const uint32_t step = std::max<uint32_t>(config_.timestamp_step, 1);
  // Durations are 16-bit: keep the whole press representable.
  const int tone_packets = std::clamp<int>(config_.tone_packets, 1, 0xFFFF / step);
  const int end_packets = std::clamp(config_.end_packets, 1, 10);
  if (!in_event_) {
    if (gap_left_ > 0) {
      --gap_left_;
      return false;
    }
    if (queue_size_ == 0) return false;
    if (out.size() < kTelephoneEventSize) return false;
    event_ = queue_[queue_head_];
    queue_head_ = (queue_head_ + 1) % queue_.size();
    --queue_size_;
    in_event_ = true;
    start_ts_ = tick_timestamp;
    sent_ = 0;
  }
  TelephoneEvent ev;
  ev.event = event_;
  ev.volume = config_.volume;
  ev.end = sent_ >= tone_packets;
  ev.duration = static_cast<uint16_t>(std::min(sent_ + 1, tone_packets) * step);
  packet.size = write_telephone_event(out, ev);
  if (packet.size == 0) return false;
  packet.marker = sent_ == 0;
  packet.timestamp = start_ts_;
  if (++sent_ >= tone_packets + end_packets) {
    in_event_ = false;
    gap_left_ = config_.gap_ticks;
  }
  return true;
}

void DtmfSender::clear() {
  in_event_ = false;
  gap_left_ = 0;
  queue_head_ = 0;
  queue_size_ = 0;
  sent_ = 0;
}

}  // namespace atende::rtp
