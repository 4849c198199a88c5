// Receive-side statistics for RTCP reception reports: RFC 3550 A.1 sequence tracking
// (extended highest sequence number with wraparound, probation of new sources), A.3 loss
// (cumulative and fraction since the last report) and A.8 interarrival jitter.
// Fixed-size state, no allocation; called per packet on the media thread.
#pragma once
#include <cstdint>

#include "core/clock.h"
#include "rtp/rtcp.h"

namespace atende::rtp {

// RFC 3550 A.1: validates sequence numbers of one source and counts cycles.
class SequenceTracker {
 public:
  static constexpr int kMinSequential = 2;  // packets in order before a source is valid
  static constexpr int kMaxDropout = 3000;
  static constexpr int kMaxMisorder = 100;

  // Feeds one sequence number. Returns false while on probation or for a packet that
  // looks out of this stream (a big jump is accepted only if the next one follows it).
  bool update(uint16_t seq);
  void reset();

  bool valid() const { return probation_ == 0 && started_; }
  uint32_t extended_highest() const { return cycles_ + max_seq_; }
  uint32_t expected() const { return extended_highest() - base_seq_ + 1; }
  uint32_t received() const { return received_; }
  // Expected minus received; negative when duplicates arrived (RFC 3550 allows that).
  int64_t cumulative_lost() const {
    return static_cast<int64_t>(expected()) - static_cast<int64_t>(received_);
  }

 private:
  void init(uint16_t seq);

  bool started_ = false;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;  // count of wraps, shifted left by 16
  uint32_t base_seq_ = 0;
  uint32_t bad_seq_ = kNoBadSeq;
  int probation_ = kMinSequential;
  uint32_t received_ = 0;
  static constexpr uint32_t kNoBadSeq = (1u << 16) + 1;  // never equals a 16-bit seq
};

// RFC 3550 A.8: J += (|D| - J) / 16, with D the change in transit time.
class JitterEstimator {
 public:
  explicit JitterEstimator(uint32_t clock_rate) : clock_rate_(clock_rate) {}
  void update(uint32_t rtp_timestamp, MonoTime arrival);
  void reset() {
    has_last_ = false;
    jitter_q4_ = 0;
  }
  // Jitter in RTP timestamp units (the RTCP field).
  uint32_t jitter() const { return static_cast<uint32_t>(jitter_q4_ >> 4); }
  double jitter_ms() const { return jitter() * 1000.0 / clock_rate_; }

 private:
  uint32_t clock_rate_;
  bool has_last_ = false;
  int64_t last_transit_ = 0;
  uint64_t jitter_q4_ = 0;  // jitter * 16, as in A.8, to keep integer precision
};

// Everything needed to write a report block about one remote source.
class ReceiveStats {
 public:
  explicit ReceiveStats(uint32_t clock_rate) : jitter_(clock_rate) {}
  // Per received RTP packet. Returns false if the sequence tracker rejected it (probation
  // or a stray), in which case it did not count towards jitter either.
  bool on_packet(uint16_t seq, uint32_t rtp_timestamp, MonoTime arrival);
  // When an SR from this source arrives: remembers its NTP time for LSR/DLSR.
  void on_sender_report(uint64_t ntp_timestamp, MonoTime arrival);
  // Builds a block and starts a new fraction-lost interval.
  ReportBlock make_report_block(uint32_t remote_ssrc, MonoTime now);
  void reset();

  const SequenceTracker& sequence() const { return seq_; }
  const JitterEstimator& jitter() const { return jitter_; }

 private:
  SequenceTracker seq_;
  JitterEstimator jitter_;
  uint32_t expected_prior_ = 0;
  uint32_t received_prior_ = 0;
  bool have_sr_ = false;
  uint32_t last_sr_ = 0;
  MonoTime last_sr_arrival_{};
};

}  // namespace atende::rtp
