#include "rtp/reception_stats.h"

#include <algorithm>

#include "rtp/rtp_time.h"

namespace atende::rtp {

ReceptionStats::ReceptionStats(uint32_t clock_rate) : clock_rate_(clock_rate ? clock_rate : 8000) {}

void ReceptionStats::reset() { *this = ReceptionStats(clock_rate_); }

void ReceptionStats::init_seq(uint16_t seq) {
  base_seq_ = seq;
  max_seq_ = seq;
  bad_seq_ = kSeqMod + 1;  // an impossible value: no pending jump
  cycles_ = 0;
  received_ = 0;
  received_prior_ = 0;
  expected_prior_ = 0;
}

// RFC 3550 A.1 update_seq, kept close to the reference so it can be checked against it.
bool ReceptionStats::update_seq(uint16_t seq) {
  const uint16_t udelta = static_cast<uint16_t>(seq - max_seq_);
  if (probation_ > 0) {
    if (seq == static_cast<uint16_t>(max_seq_ + 1)) {
      --probation_;
      max_seq_ = seq;
      if (probation_ == 0) {
        init_seq(seq);
        ++received_;
        return true;
      }
    } else {
      probation_ = kMinSequential - 1;
      max_seq_ = seq;
    }
    return false;
  }
  if (udelta < kMaxDropout) {
    if (seq < max_seq_) cycles_ += kSeqMod;  // wrapped
    max_seq_ = seq;
  } else if (udelta <= kSeqMod - kMaxMisorder) {
    // A big jump: believe it only if the next packet follows it (sender restarted).
    if (seq == bad_seq_) {
      init_seq(seq);
    } else {
      bad_seq_ = (seq + 1) & (kSeqMod - 1);
      return false;
    }
  }
  // else: duplicate or reordered packet, counted but max_seq unchanged.
  ++received_;
  return true;
}

bool ReceptionStats::on_packet(uint16_t sequence, uint32_t rtp_timestamp, MonoTime arrival) {
  if (!seen_any_) {
    seen_any_ = true;
    init_seq(sequence);
    max_seq_ = static_cast<uint16_t>(sequence - 1);
    probation_ = kMinSequential;
  }
  const bool accepted = update_seq(sequence);
  if (!accepted) return false;

  // A.8: J += (|D| - J) / 16, with wrapping 32-bit differences.
  const int32_t transit = static_cast<int32_t>(to_rtp_units(arrival, clock_rate_) - rtp_timestamp);
  if (have_transit_) {
    int64_t d = static_cast<int64_t>(transit) - transit_;
    if (d < 0) d = -d;
    const int64_t next =
        static_cast<int64_t>(jitter_q4_) + d - ((static_cast<int64_t>(jitter_q4_) + 8) >> 4);
    jitter_q4_ = static_cast<uint32_t>(std::clamp<int64_t>(next, 0, UINT32_MAX));
  }
  have_transit_ = true;
  transit_ = transit;
  return true;
}

uint64_t ReceptionStats::expected() const {
  if (!seen_any_ || probation_ > 0) return 0;
  return static_cast<uint64_t>(extended_highest_seq()) - base_seq_ + 1;
}

int64_t ReceptionStats::cumulative_lost() const {
  return static_cast<int64_t>(expected()) - static_cast<int64_t>(received_);
}

ReportBlock ReceptionStats::make_report_block(uint32_t source_ssrc, uint32_t lsr, uint32_t dlsr) {
  ReportBlock b;
  b.ssrc = source_ssrc;
  const uint64_t exp = expected();
  const int64_t expected_interval = static_cast<int64_t>(exp - expected_prior_);
  const int64_t received_interval = static_cast<int64_t>(received_ - received_prior_);
  expected_prior_ = exp;
  received_prior_ = received_;
  const int64_t lost_interval = expected_interval - received_interval;
  b.fraction_lost =
      (expected_interval == 0 || lost_interval <= 0)
          ? 0
          : static_cast<uint8_t>(std::min<int64_t>(255, (lost_interval << 8) / expected_interval));
  b.cumulative_lost =
      static_cast<int32_t>(std::clamp<int64_t>(cumulative_lost(), -0x800000, 0x7FFFFF));
  b.extended_highest_seq = extended_highest_seq();
  b.jitter = jitter();
  b.last_sr = lsr;
  b.delay_since_last_sr = dlsr;
  return b;
}

}  // namespace atende::rtp
