// Replica: one validator's consensus core driven on an Asio event loop, with the
// ledger as its application and the node's store for its safety state and blocks.
//
// The driver contract of consensus/core.h, kept here:
//   - Actions run in order. Persist is written with sync before any later action
//     of the same step, so no vote, timeout or proposal leaves before the safety
//     state that allows it is durable. StoreBlock is written unsynced: the next
//     synced write makes it durable, and that happens before any vote for it.
//   - Messages to this replica itself (its own votes when it leads the next round,
//     its broadcasts) go back through the loop, never re-entrantly.
//   - Time is the wall clock in ms (block timestamps are calendar time), read once
//     per tick and handed to the core; the core never reads a clock.
//
// Epochs (CONSENSUS.md "Epochs"). The replica runs a core for the epoch its committed
// state is in (chain_store.h ReadEpoch) when its key is in that epoch's set, and none
// otherwise: then it drops consensus messages and only executes what block sync
// brings. When the core ends an epoch (Commit::next_epoch), or a synced range crosses
// into another, the replica records the end (EpochEnd, synced), tells the transport
// the new set, and starts a core for the new epoch if it is a member of it.
//
// Epoch-change proofs (epoch_proof.h). When the replica's committed state leaves epoch e
// (by its core or by block sync), it makes the statement from its own state (the ending
// block's header, its proof in the EpochEnd record, the set the ledger made current) and,
// if it is a validator of e, signs it and broadcasts the vote (an EpochChangeVote
// ConsensusMessage). Votes never reach the core: an aggregator per epoch collects them,
// one for the epoch the replica is in (votes that come before its own end) and one for
// the last epoch that ended, no more; a vote of any other epoch is dropped. A vote's
// signer is its validator_index in its epoch, which its signature proves (the transport's
// sender index is of the receiver's epoch). Once a quorum signed the statement, the proof
// is stored (synced; chain_store.h PutEpochProof) unless one is held already. A lost vote
// only delays: block sync brings the proof from a peer that holds it (block_sync.h).
//
// Thread safety: every method named Post* may be called from any thread; they
// queue work on the loop. Everything else runs on the loop thread only.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "consensus/core.h"
#include "node/replica/block_sync.h"
#include "node/replica/chain_store.h"
#include "node/replica/epoch_proof.h"
#include "node/replica/ledger_app.h"
#include "node/replica/serve_fetch.h"
#include "node/storage/kv.h"
#include "reel/v1/peer.pb.h"

namespace reel::replica {

// How a replica reaches the others: the mutual-TLS peer service in the node, an
// in-process loopback in tests. Calls return at once; delivery may fail silently
// (the protocol tolerates loss).
class Transport {
 public:
  virtual ~Transport() = default;
  virtual void Send(uint32_t to, const v1::ConsensusMessage& message) = 0;
  // To every other validator.
  virtual void Broadcast(const v1::ConsensusMessage& message) = 0;
  // Asks `peer` for the ancestry of `block_id` above `above_height`; the answer
  // comes back through Replica::PostBlocksFetched.
  virtual void FetchBlocks(uint32_t peer, const crypto::Hash32& block_id,
                           uint64_t above_height) = 0;
  // The replica runs `epoch` now: indexes in Send, FetchBlocks and in the messages
  // it is given are positions in `epoch.set` from here on. Called before the first
  // message of the epoch leaves, on the replica's loop thread.
  virtual void OnEpoch(const EpochState& epoch) { (void)epoch; }
};

struct ReplicaConfig {
  // The chain id, timers and planted bug of every epoch's core; the epoch, its root,
  // validators and self index come from the committed state (ReadEpoch), and the
  // timers of an epoch whose validator set names its own (ConsensusParams) from there.
  consensus::Config consensus;
  // How often the core sees the clock. 0: the replica keeps no timer of its own and
  // its driver calls Tick() (the simulator, which owns time and the loop).
  uint64_t tick_ms = 50;
  std::function<uint64_t()> clock;  // wall clock in ms; the system clock when empty
};

// Puts an epoch's consensus parameters (ValidatorSet.consensus) into a core's config:
// each field set (non-zero) replaces the default of base/limits.h; the ledger and
// genesis checks have kept every value within its bounds.
void ApplyConsensusParams(const v1::ConsensusParams& params, consensus::Config* config);

class Replica {
 public:
  // `io`, `store`, `app` and `transport` must outlive the replica. The store must
  // be initialized (replica::Initialize) and `app` opened.
  Replica(ReplicaConfig config, crypto::KeyPair key, asio::io_context* io, storage::KvStore* store,
          LedgerApplication* app, Transport* transport);
  ~Replica();

  // Loads the start state from the store and starts the core and its ticks.
  Status Start();
  // Stops ticking; queued work still runs but the core receives no more events, and a
  // prepare stopped between turns is dropped. Loop thread only.
  void Stop();
  // One tick: the core sees the clock now. Called by the replica's own timer, or by a
  // driver that set tick_ms = 0. Loop thread only; nothing before Start or after Stop.
  void Tick();

  // `handled`, if set, runs on the loop once the message has been handled or dropped
  // (the node gives the sender's budget back then: daemon/peer_budget.h). It does not
  // run for a message still queued when the loop is destroyed.
  void PostMessage(uint32_t from, v1::ConsensusMessage message, std::function<void()> handled = {});
  void PostBlocksFetched(uint32_t from, std::vector<v1::Block> blocks);
  // Answers a peer's FetchBlocks on the loop: ancestry of `block_id` above
  // `above_height`, oldest first, as FetchAnswer bounds it (serve_fetch.h).
  void PostServeFetch(const crypto::Hash32& block_id, uint64_t above_height,
                      std::function<void(std::vector<v1::Block>)> reply);
  // Only the part of that answer that only the loop knows, `block_id`'s uncommitted
  // ancestry: the node reads the committed part off the loop (FetchAnswer).
  void PostServeTreeAncestry(const crypto::Hash32& block_id, uint64_t above_height,
                             std::function<void(TreeAncestry)> reply);

  // Executes a range that block sync verified (block_sync.h, ApplyRange) on the loop,
  // then re-roots the core on the new committed block; `done` gets the outcome.
  void PostSyncedRange(SyncedRange range, std::function<void(Status)> done);

  // Loop thread only. A replica with no core (not in the epoch's set) reports round 0.
  uint64_t round() const { return core_ ? core_->round() : 0; }
  uint64_t committed_height() const { return app_->committed_height(); }
  uint64_t view_changes() const {
    return view_changes_before_ + (core_ ? core_->view_changes() : 0);
  }
  uint64_t epoch() const { return epoch_.epoch; }

 private:
  void ScheduleTick();
  // Carries out a step's actions in order, except that the blocks it commits are written
  // (LedgerApplication::FlushCommitted) and their proof stored after the rest: a vote or
  // a proposal does not wait for the write of the block its QC commits.
  void Handle(consensus::Step step);
  void Deliver(uint32_t from, const consensus::Message& message);
  // What the core's actions ask for (Handle).
  void PersistSafetyState(const consensus::SafetyState& state);
  void StorePendingBlock(const consensus::Block& block);
  void SendMessage(uint32_t to, const consensus::Message& message);
  void BroadcastMessage(const consensus::Message& message);
  void StoreCommitProof(const consensus::Commit& commit);
  // The committed state has just left epoch_ (not replaced yet): makes the statement,
  // votes if a validator of it, and keeps the aggregator of its votes.
  void OnEpochEnded();
  void OnEpochChangeVote(const v1::EpochChangeVote& vote);
  // Stores a proof an aggregator made, unless one is held.
  void KeepEpochProof(const v1::EpochChangeProof& proof);
  // Once the loop has handled what is queued: executes the block the next QC would
  // commit, the one the highest QC certifies (LedgerApplication::Prepare), so that its
  // commit on the next proposal or votes only writes. Execution leaves the path from
  // a proposal to the vote, and from a QC to the next proposal. In turns of
  // kPrepareTxsPerTurn transactions, each posted behind what is queued.
  void SchedulePrepare();
  // Reads the epoch of the committed state and starts its core (or none, if this
  // replica is not in its set) from the store; Fatal if the store cannot say.
  void EnterEpoch();
  TreeAncestry TreeAncestryOf(const crypto::Hash32& block_id, uint64_t above_height) const;
  uint64_t Now() const;
  // Committed headers the leader schedule needs at a (re)start.
  size_t HistoryBlocks() const;

  ReplicaConfig config_;
  crypto::KeyPair key_;
  EpochState epoch_;
  uint64_t view_changes_before_ = 0;  // of the cores of earlier epochs
  asio::io_context* io_;
  storage::KvStore* store_;
  LedgerApplication* app_;
  Transport* transport_;
  std::unique_ptr<consensus::Core> core_;
  // Votes of the epoch the replica is in, and of the last one that ended (see above).
  std::optional<EpochChangeAggregator> current_votes_;
  std::optional<EpochChangeAggregator> ended_votes_;
  asio::steady_timer timer_;
  // Peers may reach the replica before Start (the peer server listens from Open on):
  // their messages are dropped until the core has started, as the protocol tolerates.
  bool Running() const { return started_ && !stopped_; }
  bool started_ = false;
  bool stopped_ = false;
  bool prepare_posted_ = false;
  // Guards callbacks queued on the loop against running after destruction.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace reel::replica
