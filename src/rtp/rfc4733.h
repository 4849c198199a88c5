// RFC 4733 telephone-events (DTMF over RTP): payload parse/write, a receiver that turns
// the redundant packet stream into one digit per key press, and a sender that paces one
// key press as packets on the 20 ms media tick. Fixed-size state, no allocation.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/clock.h"

namespace atende::rtp {

constexpr size_t kTelephoneEventSize = 4;

struct TelephoneEvent {
  uint8_t event = 0;      // 0-9, 10 '*', 11 '#', 12-15 A-D (others: not DTMF)
  bool end = false;       // E bit
  uint8_t volume = 10;    // 0..63, -dBm0
  uint16_t duration = 0;  // in RTP timestamp units since the event's timestamp
};

// Reads the first event of the payload (more may follow: RFC 4733 2.5.1.5 allows several
// in one packet; the first one is the current one). false if shorter than 4 bytes.
bool parse_telephone_event(std::span<const uint8_t> payload, TelephoneEvent& out);
// Writes 4 bytes. Returns 4, or 0 if `out` is too small.
size_t write_telephone_event(std::span<uint8_t> out, const TelephoneEvent& event);

// '0'-'9', '*', '#', 'A'-'D' for events 0-15; '\0' otherwise.
char event_to_digit(uint8_t event);
// Inverse of event_to_digit (accepts 'a'-'d' too); -1 for anything else.
int digit_to_event(char digit);

// Turns received telephone-event packets into digits, exactly one per key press.
// A key press is identified by the RTP timestamp of its packets (all packets of one event
// share it). A digit is reported on the first end packet; if every end packet was lost,
// on the first packet of the next event or when on_tick() sees the stream silent for
// `end_timeout`.
class DtmfReceiver {
 public:
  explicit DtmfReceiver(Millis end_timeout = Millis(500)) : end_timeout_(end_timeout) {}

  // Every packet with the telephone-event payload type (after SSRC checks by the caller).
  void on_packet(uint32_t rtp_timestamp, std::span<const uint8_t> payload, MonoTime now);
  // Once per media tick (or less often); reports an event whose end never came.
  void on_tick(MonoTime now);
  // Takes the next recognised digit. false when none is waiting.
  bool pop(char& digit);
  void reset();

  uint64_t malformed() const { return malformed_; }

 private:
  void report(uint8_t event);

  Millis end_timeout_;
  bool have_event_ = false;  // an event with `current_ts_` is known
  bool reported_ = false;    // ...and its digit has been reported
  uint32_t current_ts_ = 0;
  uint8_t current_event_ = 0;
  MonoTime last_packet_{};
  // Timestamps of recently finished events: a late end retransmission of an older event
  // (reordered behind the next one) must not count as a new press.
  std::array<uint32_t, 4> recent_ts_{};
  size_t recent_count_ = 0;
  size_t recent_next_ = 0;
  std::array<char, 32> queue_{};
  size_t queue_head_ = 0;
  size_t queue_size_ = 0;
  uint64_t malformed_ = 0;
};

struct DtmfSenderConfig {
  uint32_t timestamp_step = 160;  // RTP units per 20 ms tick (telephone-event clock / 50)
  int tone_packets = 5;           // packets before the end ones (5 x 20 ms = 100 ms tone)
  int end_packets = 3;            // RFC 4733 2.5.1.4: the end packet is sent three times
  int gap_ticks = 3;              // silent ticks between queued digits (60 ms)
  uint8_t volume = 10;
};

// One outgoing telephone-event packet, to be sent with the stream's next sequence number.
struct DtmfPacket {
  bool marker = false;     // set on the first packet of an event
  uint32_t timestamp = 0;  // RTP timestamp: the event's start, same for all its packets
  size_t size = 0;         // payload bytes written
};

class DtmfSender {
 public:
  explicit DtmfSender(const DtmfSenderConfig& config = {}) : config_(config) {}
  // Queues a digit. false if it is not a DTMF digit or the queue (32) is full.
  bool queue(char digit);
  // Called every tick with the RTP timestamp this tick's audio would carry. When it
  // returns true the caller sends the telephone-event packet (payload in `out`) instead
  // of audio; false: send audio as usual.
  bool next(uint32_t tick_timestamp, std::span<uint8_t> out, DtmfPacket& packet);
  bool busy() const { return in_event_ || gap_left_ > 0 || queue_size_ > 0; }
  void clear();

 private:
  DtmfSenderConfig config_;
  bool in_event_ = false;
  uint8_t event_ = 0;
  uint32_t start_ts_ = 0;
  int sent_ = 0;  // packets sent for the current event
  int gap_left_ = 0;
  std::array<uint8_t, 32> queue_{};
  size_t queue_head_ = 0;
  size_t queue_size_ = 0;
};

}  // namespace atende::rtp
