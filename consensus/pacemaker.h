// Pacemaker: liveness only. Tracks the current round, enters round r + 1 on a
// QC or TC of round r, and runs the round timer from injected time (OnTick):
// it owns no clock. The timer grows x3/2 (capped) after each round that ends by
// a TC and returns to the initial value after a QC. It decides nothing about
// what may be signed (safety_rules.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "base/limits.h"
#include "consensus/types.h"

namespace reel::consensus {

class Pacemaker {
 public:
  Pacemaker(uint64_t timeout_ms_initial, uint64_t timeout_ms_max)
      : initial_ms_(timeout_ms_initial), max_ms_(timeout_ms_max), duration_ms_(initial_ms_) {
    REEL_ASSERT(initial_ms_ > 0 && initial_ms_ <= max_ms_);
  }

  uint64_t round() const { return round_; }
  uint64_t duration_ms() const { return duration_ms_; }
  uint64_t deadline_ms() const { return deadline_ms_; }
  const std::optional<TimeoutCert>& high_tc() const { return high_tc_; }

  // Starts (or restarts) in `round` at `now_ms`.
  void Start(uint64_t round, uint64_t now_ms) {
    round_ = round;
    deadline_ms_ = now_ms + duration_ms_;
  }

  // True if the QC moved us to a new round.
  bool AdvanceOnQc(uint64_t qc_round, uint64_t now_ms) {
    if (qc_round < round_) return false;
    duration_ms_ = initial_ms_;
    Enter(qc_round + 1, now_ms);
    return true;
  }

  // `tc` must be verified. True if it moved us to a new round.
  bool AdvanceOnTc(const TimeoutCert& tc, uint64_t now_ms) {
    if (!high_tc_ || tc.round > high_tc_->round) high_tc_ = tc;
    if (tc.round < round_) return false;
    duration_ms_ = std::min(max_ms_, duration_ms_ * limits::round_timeout_backoff_numerator /
                                         limits::round_timeout_backoff_denominator);
    Enter(tc.round + 1, now_ms);
    return true;
  }

  // Moves to `round` without a certificate, when f + 1 validators (one honest
  // at least) time out there: a replica that restarted into a later round
  // holds no TC to show, and would otherwise wait for us forever.
  void JoinRound(uint64_t round, uint64_t now_ms) {
    if (round > round_) Enter(round, now_ms);
  }

  bool Expired(uint64_t now_ms) const { return now_ms >= deadline_ms_; }
  // After a local timeout: fire again one duration later (to re-send it).
  void Rearm(uint64_t now_ms) { deadline_ms_ = now_ms + duration_ms_; }

 private:
  void Enter(uint64_t round, uint64_t now_ms) {
    round_ = round;
    deadline_ms_ = now_ms + duration_ms_;
  }

  uint64_t initial_ms_;
  uint64_t max_ms_;
  uint64_t duration_ms_;
  uint64_t round_ = 1;
  uint64_t deadline_ms_ = 0;
  std::optional<TimeoutCert> high_tc_;
};

}  // namespace reel::consensus
