// LeaderSchedule: who leads each round (CONSENSUS.md "Rounds"), by leader reputation
// after Aptos' ProposerAndVoterHeuristic, computed from committed history alone.
//
// The rule. A block C of round r extends a parent P. The leader of r for C is drawn
// from the committed chain up to height H = P.header.committed_height (the newest
// block committed in P's own ancestry):
//   - History: the Window(n) = max(2n, 4) committed blocks at heights H, H - 1, ...
//     (not genesis, only this epoch's).
//   - A validator is active when it proposed one of those blocks or its signature is
//     in the QC one of them carries (header.qc_signers, which the block id covers, so
//     every holder of a block reads the same voters). Active weighs kActiveWeight,
//     inactive kInactiveWeight.
//   - A validator failed when one of those blocks shows a round it led that certified
//     nothing: a block B whose parent P is of a round below B.round - 1 skipped the
//     rounds between, and each skipped round s (the last kFailedRoundsMax of them) is
//     put to the validator the base draw names for s and P (below). A failed
//     validator weighs kFailedWeight, whatever else it did (as Aptos' failed
//     proposers). So a crashed validator is left out from the first commit that shows
//     a round it did not lead, instead of leading a quarter of the rounds until its
//     proposals and votes leave the window; it is drawn about once in 1000 * n rounds
//     while failures of it stay in the window, then as inactive (once in 100 * n),
//     which keeps a path back; once it votes again it is active again.
//   - The base draw, which names who failed a skipped round, is the same draw with
//     active and inactive weights only. It leaves failures out so that it reads nothing
//     but headers (proposer, QC signers, digest): the failures of one block never
//     depend on those of the blocks before it, so a replica that holds the last
//     Window(n) headers below P computes them as everyone does. Where failures in the
//     window made the real draw differ from the base one, a skipped round is put to the
//     base draw's validator: a wrong guess costs that validator a lower weight for a
//     window, never safety.
//   - Rounds go in groups of GroupSize(n) = n - f (round / GroupSize is the group,
//     round % GroupSize the position). A group's leaders are weighted draws without
//     replacement over the validators in index order: draw i (i = 0 .. position) is
//     seeded by H("reel/leader/v2" || epoch || group || H(canonical header at height
//     H) || i), and a validator drawn leaves the draws after it. So no validator leads
//     two rounds of one group: a crashed validator that the history still counts as
//     active leads at most two rounds in a row (the last of a group and the first of
//     the next), and any two groups hold two consecutive rounds with live leaders,
//     which is what a commit needs; independent draws would now and then give it four
//     or five rounds of six, each a timeout, before the first commit shows its failures.
//   - Round-robin (round mod n) where there is not a full window of this epoch's
//     history: the first Window(n) blocks of an epoch (their root QC has no signers, so
//     a shorter window names only a few proposers, and one would lead almost every
//     round), or a replica that no longer holds the headers below H (more than
//     kKeptBeyondWindow blocks ahead of the proposal it judges), or whose window holds
//     a block whose failures it could not compute (the first Window(n) blocks it
//     learnt after a restart or a gap: it lacks the headers their base draw reads).
// Why H comes from the parent: every replica that checks C has P (C's QC certifies it)
// and has executed up to H (it executes through C.header.committed_height >= H before
// it votes), and the committed chain up to H is the same on every honest replica (the
// safety of the protocol). So all replicas that judge one proposal expect the same
// proposer: the schedule depends on the proposal's ancestry, never on how far each
// replica has got. A vote for block B goes to the leader of B's child, drawn with
// B.header.committed_height, which a voter has executed too.
//
// Why safety does not depend on it: no safety rule reads the leader. A replica votes by
// the safety rules alone (round, QC, TC); a QC is a quorum's votes whoever gathered
// them, and commit follows from QCs. The schedule only decides whose proposal a replica
// accepts and to whom it sends its vote.
// When replicas disagree for a moment: two replicas with different high QCs may each
// think they lead round r (their parents differ); each proposal is judged by its own
// parent, so voters agree on each, and a voter signs at most one block per round. A
// vote sent to the leader of a child that is never proposed (the round ends by TC
// instead) is lost, as with any timeout. At worst a round ends by timeout.
//
// Deterministic: integers only, ordered containers, no clock. Cost: LeaderOf is
// O(Window(n) + n), cached per (round, H).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "consensus/types.h"

namespace reel::consensus {

class LeaderSchedule {
 public:
  static constexpr uint64_t kActiveWeight = 1000;
  static constexpr uint64_t kInactiveWeight = 10;
  static constexpr uint64_t kFailedWeight = 1;
  // Skipped rounds put to a failed validator per block: a long outage (a partition)
  // skips many, and the last few name enough.
  static constexpr uint64_t kFailedRoundsMax = 8;
  // Headers kept below the newest committed one beyond a window: a replica this far
  // ahead of a proposal's parent still judges it as the others do.
  static constexpr size_t kKeptBeyondWindow = 64;

  // `reputation` false: round-robin always (Config::leader_reputation).
  LeaderSchedule(uint64_t epoch, size_t n, bool reputation = true);

  // The committed headers a (re)starting replica knows, oldest first, ending at its
  // committed block: HistoryBlocksMax(n) of them where the chain has them.
  void Reset(const std::vector<BlockHeader>& committed_headers);
  // A block committed, in height order, right above those already given.
  void OnCommitted(const BlockHeader& header);

  // The leader of `round` for a block whose parent's header.committed_height is
  // `history_height` (at most this replica's committed height).
  uint32_t LeaderOf(uint64_t round, uint64_t history_height) const;

  static size_t Window(size_t n) { return n * 2 > 4 ? n * 2 : 4; }
  static uint64_t GroupSize(size_t n) { return n - (n - 1) / 3; }
  // Beyond the window, the headers its blocks' failures read (a second window below
  // their parents' committed heights, a few blocks further down): two more windows.
  static size_t HistoryBlocksMax(size_t n) { return 3 * Window(n) + kKeptBeyondWindow; }

 private:
  struct Entry {
    uint64_t height = 0;
    uint32_t proposer = 0;
    SignerBitmap voters{};
    Hash32 digest{};  // of the canonical header: seeds the draw
    uint64_t round = 0;
    uint64_t committed_height = 0;  // the header's: the history its children are drawn from
    std::vector<uint32_t> failed;   // validators of the rounds skipped before this block
    bool failures_known = true;     // false: the headers the base draw reads were missing
  };
  // The leader, and whether this replica's history was enough to compute it as every
  // replica does (false: round-robin for want of headers).
  struct Draw {
    uint32_t leader = 0;
    bool exact = true;
  };
  Draw Compute(uint64_t round, uint64_t history_height, bool with_failures) const;
  void PutFailures(Entry& e) const;

  const uint64_t epoch_;
  const size_t n_;
  const bool reputation_;
  std::deque<Entry> history_;  // consecutive heights, oldest first, at most HistoryBlocksMax
  mutable std::map<std::pair<uint64_t, uint64_t>, uint32_t> cache_;  // (round, height)
};

}  // namespace reel::consensus
