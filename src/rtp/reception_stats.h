// Receiver-side statistics for RTCP report blocks (RFC 3550 appendix A.1, A.3, A.8):
// sequence tracking with wraparound and probation, cumulative and interval loss, and the
// interarrival jitter estimator. One instance per received SSRC; integer math only.
#pragma once
#include <cstdint>

#include "core/clock.h"
#include "rtp/rtcp.h"

namespace atende::rtp {

class ReceptionStats {
 public:
  explicit ReceptionStats(uint32_t clock_rate);

  // Feeds one received packet. Returns false when the packet should not be played: the
  // source is still on probation (fewer than 2 in-order packets seen), or the sequence
  // jumped so far that it is taken as a stray until the next packet confirms the jump.
  bool on_packet(uint16_t sequence, uint32_t rtp_timestamp, MonoTime arrival);

  // Forgets everything (new SSRC).
  void reset();

  uint32_t extended_highest_seq() const { return cycles_ + max_seq_; }
  uint64_t received() const { return received_; }
  uint64_t expected() const;
  // Expected minus received; negative when duplicates arrive. Clamped to 24 bits in reports.
  int64_t cumulative_lost() const;
  // Interarrival jitter in RTP timestamp units.
  uint32_t jitter() const { return jitter_q4_ >> 4; }
  bool valid() const { return probation_ == 0; }

  // Builds a report block and starts a new interval for fraction_lost.
  ReportBlock make_report_block(uint32_t source_ssrc, uint32_t lsr, uint32_t dlsr);

 private:
  static constexpr int kMinSequential = 2;
  static constexpr uint32_t kMaxDropout = 3000;
  static constexpr uint32_t kMaxMisorder = 100;
  static constexpr uint32_t kSeqMod = 1u << 16;

  void init_seq(uint16_t seq);
  bool update_seq(uint16_t seq);

  uint32_t clock_rate_;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;
  uint32_t base_seq_ = 0;
  uint32_t bad_seq_ = kSeqMod + 1;
  int probation_ = kMinSequential;
  bool seen_any_ = false;
  uint64_t received_ = 0;
  uint64_t expected_prior_ = 0;
  uint64_t received_prior_ = 0;
  bool have_transit_ = false;
  int32_t transit_ = 0;
  uint32_t jitter_q4_ = 0;  // jitter * 16, as in A.8's integer version
};

}  // namespace atende::rtp
