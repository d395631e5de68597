// SafetyRules: what this replica may sign, and nothing else. The one place
// that decides votes, timeouts and proposals, kept apart from liveness
// (pacemaker.h) so that liveness can change without touching safety.
//
// Contract with the caller (consensus/core.cc): a Check* that returns OK has
// already raised the state; the caller must emit Persist{state()} and have it
// synced before the signed message leaves (CONSENSUS.md "Safety state"). The
// checks assume signatures, epoch and proposer were verified before.
#pragma once

#include <optional>
#include <utility>

#include "base/status.h"
#include "consensus/types.h"

namespace reel::consensus {

// Everything that must survive a crash for the replica never to sign twice in
// one round, nor to report a lower high QC in a timeout than it voted on.
struct SafetyState {
  uint64_t epoch = 0;
  uint64_t highest_voted_round = 0;
  uint64_t highest_timeout_round = 0;
  uint64_t highest_proposed_round = 0;
  QuorumCert high_qc;
  // Liveness, not safety: the highest TC this replica has seen, kept with the rest so
  // that a replica restarted into a round it entered by a TC can still show the others
  // that TC (in its timeouts and proposals). Without it, a replica that restarts into
  // round r + 1 while the others missed the TC of r sits alone in r + 1, and they in r.
  std::optional<TimeoutCert> high_tc;
};

class SafetyRules {
 public:
  // Planted bugs: with `weak_vote_rule` a second vote in the voted round passes;
  // with `weak_tc_rule` a block entering its round by a TC may extend any QC.
  SafetyRules(SafetyState persisted, bool weak_vote_rule, bool weak_tc_rule = false)
      : state_(std::move(persisted)),
        weak_vote_rule_(weak_vote_rule),
        weak_tc_rule_(weak_tc_rule) {}

  // The voting rule (CONSENSUS.md "Rounds"). A vote for `block` of round r may
  // be signed only if r is above every round voted or timed out in, and either
  // its QC is of round r - 1, or `tc` is of round r - 1 and the block's QC is
  // at least every high QC in it.
  Status CheckVote(const BlockHeader& block, const std::optional<TimeoutCert>& tc) {
    const uint64_t r = block.round;
    const bool round_ok =
        weak_vote_rule_ ? r >= state_.highest_voted_round : r > state_.highest_voted_round;
    if (!round_ok) return Status::FailedPrecondition("already voted in this round or later");
    if (r <= state_.highest_timeout_round) {
      return Status::FailedPrecondition("timed out in this round or later");
    }
    const bool extends_qc = block.qc_round + 1 == r;
    // Safe to extend: a block committed before the TC has a child one round up
    // whose voters include a signer of the TC, so the TC's highest high QC round
    // is at least the committed block's; a block on a lower QC could fork from it.
    const bool extends_tc = tc.has_value() && tc->round + 1 == r &&
                            (block.qc_round >= tc->MaxHighQcRound() || weak_tc_rule_);
    if (!extends_qc && !extends_tc) {
      return Status::FailedPrecondition("block QC is not of round r-1 and no TC justifies it");
    }
    state_.highest_voted_round = r;
    return Status::Ok();
  }

  // A timeout for `round` carries the persisted high QC; it may not go below a
  // round already voted or timed out in (re-sending the same round is fine).
  Status CheckTimeout(uint64_t round) {
    if (round < state_.highest_voted_round || round < state_.highest_timeout_round) {
      return Status::FailedPrecondition("timeout for a round below one already signed");
    }
    state_.highest_timeout_round = round;
    return Status::Ok();
  }

  // One proposal per round, across restarts too.
  Status CheckProposal(uint64_t round) {
    if (round <= state_.highest_proposed_round) {
      return Status::FailedPrecondition("already proposed in this round");
    }
    state_.highest_proposed_round = round;
    return Status::Ok();
  }

  // Raises the high QC; true if it changed (then it must be persisted before
  // the next signature leaves).
  bool ObserveQc(const QuorumCert& qc) {
    if (qc.round <= state_.high_qc.round) return false;
    state_.high_qc = qc;
    return true;
  }

  void ObserveTc(const TimeoutCert& tc) {
    if (!state_.high_tc || tc.round > state_.high_tc->round) state_.high_tc = tc;
  }

  const SafetyState& state() const { return state_; }

 private:
  SafetyState state_;
  bool weak_vote_rule_;
  bool weak_tc_rule_;
};

}  // namespace reel::consensus
