// Pacemaker: liveness only. Tracks the current round, enters round r + 1 on a
// QC or TC of round r, and runs the round timer from injected time (OnTick):
// it owns no clock. It decides nothing about what may be signed (safety_rules.h),
// so no choice of timeout can make a replica unsafe; a too short one only costs a
// round, and the backoff below makes up for it.
//
// The round timer adapts to the rounds it observes (docs/DECISIONS.md). Its base, set
// at each round that ends by a QC, is kAdaptiveMultiplier times the longest of the
// last kSamples QC-ended rounds, within [floor, initial] (the initial value until
// kSamplesMin rounds were seen), plus the leader's idle wait when the chain is idle.
// A round r gets the base grown by the backoff (x1.5 by default, capped) for each round
// since the newest certified one (the high QC's round) short of r - 1: the streak of
// rounds that certified nothing. So a failed round costs a few round-trips of this network rather
// than a fixed second; a dead leader's round, followed by a round that certifies its
// block, costs no growth after it (even when the TC of the dead round came first and
// the QC of the next a moment later); and only a run of rounds that certify nothing (a
// partition, a network slower than the timer) backs off, until the timer outlasts the
// network's delays. A slower network (a WAN) keeps a timeout above its own round time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>

#include "base/limits.h"
#include "consensus/types.h"

namespace reel::consensus {

class Pacemaker {
 public:
  static constexpr size_t kSamples = 16;
  static constexpr size_t kSamplesMin = 8;
  static constexpr uint64_t kAdaptiveMultiplier = 3;

  // `timeout_ms_floor` 0 (or >= initial) keeps the timer at the initial value after
  // every QC: no adaptation. `backoff_percent`: the growth per round of a streak (150 =
  // x1.5), above 100.
  Pacemaker(uint64_t timeout_ms_initial, uint64_t timeout_ms_max, uint64_t timeout_ms_floor = 0,
            uint32_t backoff_percent = limits::round_timeout_backoff_percent)
      : initial_ms_(timeout_ms_initial),
        max_ms_(timeout_ms_max),
        floor_ms_(timeout_ms_floor == 0 ? timeout_ms_initial
                                        : std::min(timeout_ms_floor, timeout_ms_initial)),
        backoff_percent_(backoff_percent),
        base_ms_(initial_ms_) {
    REEL_ASSERT(initial_ms_ > 0 && initial_ms_ <= max_ms_);
    REEL_ASSERT(backoff_percent_ > 100);
  }

  uint64_t round() const { return round_; }
  // The current round's timer: the base grown for the streak of rounds that certified
  // nothing before it.
  uint64_t duration_ms() const {
    uint64_t duration = std::min(base_ms_, max_ms_);
    for (uint64_t k = round_ > high_qc_round_ + 1 ? round_ - high_qc_round_ - 1 : 0;
         k > 0 && duration < max_ms_; --k) {
      const uint64_t grown = duration * backoff_percent_ / 100;
      duration = std::min(max_ms_, std::max(grown, duration + 1));
    }
    return duration;
  }
  uint64_t deadline_ms() const { return deadline_ms_; }
  const std::optional<TimeoutCert>& high_tc() const { return high_tc_; }

  // Starts (or restarts) in `round` at `now_ms`, with the highest QC it holds.
  void Start(uint64_t round, uint64_t now_ms, uint64_t high_qc_round = 0) {
    high_qc_round_ = high_qc_round;
    Enter(round, now_ms);
  }

  // True if the QC moved us to a new round. `leader_wait_ms`: how long the next
  // leader may wait on purpose before it proposes (an idle chain's pacing).
  bool AdvanceOnQc(uint64_t qc_round, uint64_t now_ms, uint64_t leader_wait_ms = 0) {
    if (qc_round < round_) {
      // A QC of an earlier round (a TC of it came first): the streak before this round
      // is shorter than its timer assumed.
      if (qc_round > high_qc_round_) {
        high_qc_round_ = qc_round;
        deadline_ms_ = std::min(deadline_ms_, entered_ms_ + duration_ms());
      }
      return false;
    }
    if (qc_round == round_ && now_ms >= entered_ms_) {
      samples_.push_back(now_ms - entered_ms_);
      if (samples_.size() > kSamples) samples_.pop_front();
    }
    base_ms_ = std::min(max_ms_, Adaptive() + leader_wait_ms);
    high_qc_round_ = qc_round;
    Enter(qc_round + 1, now_ms);
    return true;
  }

  // `tc` must be verified. True if it moved us to a new round.
  bool AdvanceOnTc(const TimeoutCert& tc, uint64_t now_ms) {
    if (!high_tc_ || tc.round > high_tc_->round) high_tc_ = tc;
    if (tc.round < round_) return false;
    Enter(tc.round + 1, now_ms);  // one more round in the streak: a longer timer
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
  void Rearm(uint64_t now_ms) { deadline_ms_ = now_ms + duration_ms(); }

 private:
  void Enter(uint64_t round, uint64_t now_ms) {
    round_ = round;
    entered_ms_ = now_ms;
    deadline_ms_ = now_ms + duration_ms();
  }

  uint64_t Adaptive() const {
    if (samples_.size() < kSamplesMin || floor_ms_ >= initial_ms_) return initial_ms_;
    const uint64_t longest = *std::max_element(samples_.begin(), samples_.end());
    return std::clamp(kAdaptiveMultiplier * longest, floor_ms_, initial_ms_);
  }

  uint64_t initial_ms_;
  uint64_t max_ms_;
  uint64_t floor_ms_;
  uint64_t backoff_percent_;
  std::deque<uint64_t> samples_;  // durations of the last QC-ended rounds
  uint64_t entered_ms_ = 0;
  uint64_t base_ms_;            // the timer of a round right after a certified one
  uint64_t high_qc_round_ = 0;  // the newest round known to have certified a block
  uint64_t round_ = 1;
  uint64_t deadline_ms_ = 0;
  std::optional<TimeoutCert> high_tc_;
};

}  // namespace reel::consensus
