// Core: the two-chain HotStuff (Jolteon / DiemBFT v4) protocol state machine,
// sans I/O (CONSENSUS.md). It owns no socket, thread, clock or file: the driver
// (the node's event loop, or the simulator) feeds it events through On* calls
// and carries out the actions each call returns. Time comes only from OnTick.
// Single-threaded: one driver thread calls it, and the Application it was given.
//
// THE DRIVER CONTRACT
//  - Actions of one Step are executed in order. A Persist is written AND synced
//    before any later action of the same Step is carried out: that is what makes
//    "never sign twice in a round" survive a crash. A driver may carry out the
//    Commits last, after the messages (node/replica: their blocks are written then),
//    as long as the Application answers as if they were done (application.h).
//  - Send{to} may name this replica, and Broadcast goes to every validator,
//    this one included: the driver loops such messages back through its queue
//    (never by calling the core re-entrantly).
//  - FetchBlocks asks a peer for the ancestry of `block_id` with heights above
//    `above_height`, at most limits::consensus_fetch_blocks_max blocks, oldest
//    first; the answer comes back through OnBlocksFetched. The core verifies
//    every block and QC it receives; the driver need not.
//  - StoreBlock hands over a block the core accepted into its tree. The driver
//    writes it; it must be durable by the time the next Persist is synced (the
//    block is then on disk before any vote for it leaves). At restart the
//    driver passes the stored blocks above the committed height back in
//    StartState, and may drop stored blocks once they are committed.
//  - Commit lists blocks the core has just executed through Application, in
//    height order, each with the QC that certifies it and its state root, for
//    the driver to store and announce, and the child and QC that committed them.
//  - Messages are delivered with the index of the authenticated peer that sent
//    them; the core trusts no id or height in them that it can recompute.
//  - A core runs one epoch (CONSENSUS.md "Epochs"). When a Commit carries
//    `next_epoch`, the last block it lists ended the epoch: the core has stopped
//    (every later event is refused with FailedPrecondition, and it signs nothing
//    more), and the driver starts a new core for the next epoch, rooted on that
//    block, if this replica is in the next set.
// A Step's status says why an event was refused (for logs and tests); a
// refused event changes nothing that a later event could not.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/limits.h"
#include "base/status.h"
#include "consensus/aggregator.h"
#include "consensus/application.h"
#include "consensus/block_tree.h"
#include "consensus/leader_schedule.h"
#include "consensus/pacemaker.h"
#include "consensus/safety_rules.h"
#include "consensus/types.h"
#include "crypto/keys.h"

namespace reel::consensus {

// Bugs planted on purpose so that the simulator can show it catches them.
// Off (kNone) everywhere except the simulator's --bug runs.
enum class PlantedBug : uint8_t {
  kNone,
  kVoteBeforePersist,  // every signed message is sent before its Persist
  kWeakVoteRule,       // a second vote in an already voted round is allowed
  kDoubleCount,        // a repeated signer counts again toward a quorum
  kWeakCommitRule,     // a QC commits its block's parent whatever the rounds between them
  kWeakTcRule,         // a vote after a TC ignores the TC's highest high QC round
  kOldEpochVote,       // a vote of another epoch is counted, checked over its own epoch
};

struct Config {
  std::string chain_id;
  uint64_t epoch = 0;
  // The block the epoch starts from: for the first epoch genesis (leave the id zero),
  // else the block that ended the epoch before, which the replica has committed.
  Hash32 epoch_root_id{};
  uint64_t epoch_root_height = 0;
  ValidatorSet validators;
  uint32_t self_index = 0;
  uint64_t round_timeout_ms_initial = limits::round_timeout_ms_initial;
  uint64_t round_timeout_ms_max = limits::round_timeout_ms_max;
  // The lowest the round timer adapts down to (pacemaker.h); 0 keeps it at the
  // initial value.
  uint64_t round_timeout_ms_floor = limits::round_timeout_ms_floor;
  uint32_t round_timeout_backoff_percent = limits::round_timeout_backoff_percent;
  uint64_t timestamp_drift_ms_max = limits::block_timestamp_drift_ms_max;
  // A block's limits, which voters enforce and a leader's payload keeps to (the epoch's
  // ConsensusParams, within base/limits.h).
  size_t block_txs_max = limits::block_txs_max;
  size_t block_bytes_max = limits::block_bytes_max;
  // Pacing, so that an idle chain does not write hundreds of empty blocks a second.
  // A leader proposes no sooner than block_interval_ms_min after its parent's
  // timestamp; and when it has nothing to order and its branch has nothing waiting
  // to commit, no sooner than idle_block_interval_ms (kept well below the round
  // timeout). 0 = no pacing (the simulator's default).
  uint64_t block_interval_ms_min = 0;
  uint64_t idle_block_interval_ms = 0;
  PlantedBug bug = PlantedBug::kNone;
  // Leaders by reputation (leader_schedule.h); false: round-robin always, for the
  // simulator's scripted attacks that must know the leaders of rounds ahead.
  bool leader_reputation = true;
};

// What a (re)starting replica knows from its own disk.
struct StartState {
  // nullopt on the very first start; a state of an earlier epoch is ignored (an epoch
  // starts with nothing signed).
  std::optional<SafetyState> safety;
  Block committed_block;  // the last executed block; genesis at first
  // A QC certifying committed_block; ignored when committed_block is the epoch's root,
  // whose QC in this epoch is the root QC.
  QuorumCert committed_qc;
  std::vector<Block> stored_blocks;  // from StoreBlock, above committed_block, any order
  // The newest committed headers, oldest first, ending with committed_block's:
  // LeaderSchedule::HistoryBlocksMax(n) where the chain has them, so that a restarted
  // replica expects the leaders the others do. Empty means committed_block's alone.
  std::vector<BlockHeader> recent_committed;
};

using Message = std::variant<Proposal, Vote, Timeout>;

struct Send {
  uint32_t to = 0;
  Message message;
};
struct Broadcast {
  Message message;
};
struct Persist {
  SafetyState state;
};
struct StoreBlock {
  Block block;
};
struct CommittedBlock {
  Block block;
  QuorumCert qc;  // certifies `block`
  Hash32 state_root{};
};
struct Commit {
  std::vector<CommittedBlock> blocks;
  // What proves the last of `blocks` committed (the two-chain rule, CommitProof in
  // proto/reel/v1/consensus.proto): the headers above it up to the child D' that
  // committed it, each the parent of the next (usually D' alone), the QC on D (D''s
  // parent) and the QC on D'. The driver keeps it for the newest block, whose
  // descendants are not committed and so are nowhere else on disk.
  std::vector<BlockHeader> descendants;
  QuorumCert block_qc;
  QuorumCert child_qc;
  // Set when the last of `blocks` ended the epoch: the next epoch's validators. Blocks
  // above it were not executed and never will be in this epoch.
  std::optional<ValidatorSet> next_epoch;
};
struct FetchBlocks {
  uint32_t from_peer = 0;
  Hash32 block_id{};
  uint64_t above_height = 0;
};
using Action = std::variant<Send, Broadcast, Persist, StoreBlock, Commit, FetchBlocks>;

struct Step {
  Status status;
  std::vector<Action> actions;
};

class Core {
 public:
  // `app` must outlive the core. `key` must be validator `self_index`'s key.
  Core(Config config, crypto::KeyPair key, Application* app);
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // Must come first, exactly once.
  Step OnStart(const StartState& start, uint64_t now_ms);
  // The driver has executed committed blocks above the core's committed height by
  // itself (block sync, each range proved committed), through the same Application:
  // the core drops its block tree and re-roots on `start`'s committed block, as a
  // restart would, keeping its safety state and never going back a round.
  Step OnSynced(const StartState& start, uint64_t now_ms);
  Step OnProposal(uint32_t from, const Proposal& proposal);
  Step OnVote(uint32_t from, const Vote& vote);
  Step OnTimeout(uint32_t from, const Timeout& timeout);
  Step OnTick(uint64_t now_ms);
  Step OnBlocksFetched(uint32_t from, std::vector<Block> blocks);

  uint64_t round() const { return pacemaker_.round(); }
  uint64_t epoch() const { return config_.epoch; }
  // True once a committed block ended this core's epoch (Commit::next_epoch).
  bool ended() const { return ended_; }
  uint64_t committed_height() const { return committed_height_; }
  // Rounds this replica left by a timeout certificate (view changes), since start.
  uint64_t view_changes() const { return view_changes_; }
  // Votes sent to every validator because the next leader went unheard (VoteIfAllowed).
  uint64_t votes_broadcast() const { return votes_broadcast_; }
  const SafetyState& safety_state() const { return safety_.state(); }
  // Blocks above the committed one, for answering peers' fetches.
  const BlockTree& tree() const { return *tree_; }
  const Config& config() const { return config_; }
  // The leader of `round` for a block whose parent records `history_height` as its
  // committed height (leader_schedule.h).
  uint32_t LeaderOf(uint64_t round, uint64_t history_height) const {
    return leaders_.LeaderOf(round, history_height);
  }

 private:
  Step Finish(Status status);
  void Root(const StartState& start, uint64_t now_ms, uint64_t round_min);
  void SignedSend(Action send);
  Status VerifyQcCached(const QuorumCert& qc) const;
  void ProcessQc(const QuorumCert& qc, uint32_t from);
  void ProcessTc(const TimeoutCert& tc);
  void OnQcFormed(const QuorumCert& qc);
  void CommitUpTo(const Block& child, const QuorumCert& child_qc);
  Status CheckProposalForm(const Proposal& proposal) const;
  Status ValidateAgainstParent(const Block& block, const Block& parent) const;
  Result<std::pair<uint64_t, Hash32>> ExpectedCommitted(const Block& parent) const;
  Status InsertBlock(const Block& block, bool store = true);
  void RestoreBlocks(std::vector<Block> blocks);
  Status HandleProposalWithParent(const Proposal& proposal);
  void VoteIfAllowed(const Proposal& proposal, Status* status);
  void LocalTimeout(bool with_vote = true);
  void Heard(uint32_t validator, uint64_t round);
  void MaybePropose();
  void RequestFetch(const Hash32& block_id, uint32_t peer);
  void RetryFetches();
  void ResumePending(uint32_t from);

  Config config_;
  crypto::KeyPair key_;
  Application* app_;
  QuorumCert root_qc_;  // the epoch's root QC (MakeRootQc)
  VerifyContext ctx_;
  Pacemaker pacemaker_;
  LeaderSchedule leaders_;
  SafetyRules safety_;
  std::unique_ptr<BlockTree> tree_;  // made at OnStart
  VoteAggregator votes_;
  TimeoutAggregator timeouts_;
  uint64_t committed_height_ = 0;
  bool ended_ = false;
  uint64_t view_changes_ = 0;
  uint64_t votes_broadcast_ = 0;
  // Per validator, the highest round of a verified message it signed (a proposal, a
  // vote, a timeout, a TC signature): who has been silent since a round timed out.
  std::vector<uint64_t> heard_round_;
  uint64_t now_ms_ = 0;
  std::optional<Timeout> last_timeout_;  // re-sent unchanged while the round lasts
  std::optional<Vote> last_vote_;        // broadcast when its round times out
  std::deque<std::pair<uint32_t, Proposal>> pending_proposals_;
  std::deque<std::pair<uint32_t, QuorumCert>> pending_qcs_;
  std::map<Hash32, uint32_t> fetches_;  // block id -> attempts so far
  std::vector<Action> out_;
};

}  // namespace reel::consensus
