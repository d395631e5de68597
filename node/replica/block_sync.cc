#include "node/replica/block_sync.h"

#include <algorithm>
#include <chrono>

#include "crypto/merkle.h"
#include "crypto/signing.h"
#include "node/ledger/ledger.h"
#include "node/ledger/validators.h"
#include "node/replica/chain_store.h"
#include "node/replica/codec.h"
#include "node/replica/commit_proof.h"
#include "node/replica/epoch_proof.h"
#include "node/replica/internal.h"
#include "node/storage/keys.h"

namespace reel::replica {

namespace keys = storage::keys;
using internal::Fatal;

Result<ChainPoint> CommittedPoint(const storage::ReadView& view, std::string_view chain_id) {
  Result<uint64_t> height = CommittedHeight(view);
  if (!height.ok()) return height.status();
  Result<v1::Block> block = ReadCommittedBlock(view, *height);
  if (!block.ok()) return block.status();
  Result<crypto::Hash32> id = HeaderId(block->header(), chain_id);
  if (!id.ok())
    return Status::Corruption("committed block " + std::to_string(*height) + ": " +
                              id.status().message());
  return ChainPoint{*height, *id};
}

namespace {

std::string At(uint64_t height) {
  return "block " + std::to_string(height);
}

// The block's transactions are the ones its header commits to.
Status CheckPayload(const v1::Block& block, const consensus::BlockHeader& header,
                    std::string_view chain_id) {
  if (static_cast<uint64_t>(block.txs_size()) != header.tx_count) {
    return Status::InvalidArgument(
        At(header.height) + " holds " + std::to_string(block.txs_size()) +
        " transactions, its header says " + std::to_string(header.tx_count));
  }
  // The leaves cover every envelope byte that execution reads (body and signatures):
  // a range with one signature altered fails here, before anything is executed.
  std::vector<crypto::Hash32> leaves;
  leaves.reserve(block.txs_size());
  for (const v1::Transaction& tx : block.txs())
    leaves.push_back(ledger::EnvelopeDigestOf(tx, chain_id));
  if (crypto::MerkleRoot(leaves) != header.tx_root) {
    return Status::InvalidArgument(At(header.height) + ": transactions do not match tx_root");
  }
  return Status::Ok();
}

// `qc` is a valid QC on the block at `point` of round `round`.
Status CheckQc(const consensus::QuorumCert& qc, const ChainPoint& point, uint64_t round,
               const consensus::VerifyContext& ctx) {
  if (qc.block_id != point.id || qc.round != round) {
    return Status::InvalidArgument("the QC on " + At(point.height) + " certifies another block");
  }
  consensus::QuorumCert hinted = qc;
  hinted.height = point.height;  // an unsigned hint: the genesis QC's must be 0
  if (Status s = consensus::VerifyQc(hinted, ctx); !s.ok()) {
    return Status::InvalidArgument("the QC on " + At(point.height) + ": " + s.message());
  }
  return Status::Ok();
}

// When the range's last block ended its epoch and this node holds that epoch's proof,
// the proof goes with it: a node that crosses the epoch by block sync gets it so.
Status AttachEpochProof(const storage::ReadView& view, v1::GetBlocksResponse* response) {
  if (response->blocks_size() == 0) return Status::Ok();
  const v1::BlockHeader& last = response->blocks(response->blocks_size() - 1).header();
  Result<std::optional<v1::EpochEnd>> end = ReadEpochEnd(view, last.epoch());
  if (!end.ok()) return end.status();
  if (!end->has_value() || (*end)->height() != last.height()) return Status::Ok();
  Result<std::optional<v1::EpochChangeProof>> proof = ReadEpochProof(view, last.epoch());
  if (!proof.ok()) return proof.status();
  if (proof->has_value()) *response->mutable_epoch_change_proof() = std::move(**proof);
  return Status::Ok();
}

// Keeps `proof` (verified by VerifyRange, on the range's last block) unless the node holds
// one already; only on this node's own block at that height.
Status KeepEpochProof(storage::KvStore& store, const consensus::Block& last,
                      const v1::EpochChangeProof& proof, storage::WriteBatch* batch) {
  Result<std::optional<v1::EpochChangeProof>> held = ReadEpochProof(store, proof.epoch());
  if (!held.ok()) return held.status();
  if (held->has_value()) return Status::Ok();
  Result<std::optional<std::string>> at =
      store.Get(keys::BlockHeightByIdKey(std::string(crypto::AsBytes(last.id))));
  if (!at.ok()) return at.status();
  if (!at->has_value() || **at != keys::EncodeHeight(last.header.height)) {
    return Status::FailedPrecondition("the epoch-change proof of epoch " +
                                      std::to_string(proof.epoch()) +
                                      " is on a block this node has not committed");
  }
  PutEpochProof(*batch, proof);
  return Status::Ok();
}

}  // namespace

Result<v1::GetBlocksResponse> ReadRange(const storage::ReadView& view, std::string_view chain_id,
                                        uint64_t from, uint64_t to) {
  v1::GetBlocksResponse response;
  Result<uint64_t> committed = CommittedHeight(view);
  if (!committed.ok()) return committed.status();
  if (from == 0) return Status::InvalidArgument("block sync starts at height 1");
  to = std::min({to, *committed, from + limits::net_sync_blocks_per_request_max - 1});
  // A range stays in one epoch: it ends at the block that ended the epoch of `from`, so
  // that the node that asked checks it with one set and enters the next epoch after it.
  if (from <= to) {
    Result<v1::Block> first = ReadCommittedBlock(view, from);
    if (!first.ok()) return first.status();
    Result<std::optional<v1::EpochEnd>> end = ReadEpochEnd(view, first->header().epoch());
    if (!end.ok()) return end.status();
    if (end->has_value() && (*end)->height() >= from) to = std::min(to, (*end)->height());
  }
  size_t bytes = 0;
  for (uint64_t h = from; h <= to; ++h) {
    Result<v1::Block> block = ReadCommittedBlock(view, h);
    if (!block.ok()) return block.status();
    bytes += block->ByteSizeLong();
    if (bytes > limits::net_sync_response_bytes_max && response.blocks_size() > 0) break;
    *response.add_blocks() = std::move(block).value();
  }
  // The proof of the last block. The newest blocks may have none for a moment (a
  // tip lost to a crash, or a run of rounds without two in a row): the range then
  // ends a little earlier, a bounded number of times, each try reading at most
  // api_commit_proof_descendants_max blocks.
  for (uint64_t tries = 0; response.blocks_size() > 0; ++tries) {
    if (tries == limits::net_sync_proof_tries_max) {
      response.clear_blocks();  // nothing provable near the top yet: ask again later
      break;
    }
    const uint64_t last = response.blocks(response.blocks_size() - 1).header().height();
    Result<std::optional<v1::CommitProof>> proof =
        ReadCommitProof(view, chain_id, last, *committed);
    if (!proof.ok()) return proof.status();
    if (proof->has_value()) {
      Result<v1::QuorumCert> qc = ReadCommitQc(view, last);
      if (!qc.ok()) return qc.status();
      *response.mutable_last_qc() = std::move(qc).value();
      *response.mutable_commit_proof() = std::move(**proof);
      break;
    }
    response.mutable_blocks()->RemoveLast();
  }
  REEL_RETURN_IF_ERROR(AttachEpochProof(view, &response));
  return response;
}

Result<SyncedRange> VerifyRange(const consensus::VerifyContext& ctx, const ChainPoint& from,
                                const v1::GetBlocksResponse& response, PlantedBug bug) {
  if (response.blocks_size() == 0) {
    return Status::NotFound("the peer sent no blocks above height " + std::to_string(from.height));
  }
  if (static_cast<uint64_t>(response.blocks_size()) > limits::net_sync_blocks_per_request_max) {
    return Status::InvalidArgument("the peer sent more blocks than asked for");
  }
  SyncedRange range;
  ChainPoint previous = from;
  uint64_t previous_round = 0;  // not needed for the first block: its QC's round is
  for (int i = 0; i < response.blocks_size(); ++i) {
    Result<consensus::Block> block = FromProto(response.blocks(i), ctx.chain_id);
    if (!block.ok()) return block.status();
    const consensus::BlockHeader& h = block->header;
    if (h.height != previous.height + 1) {
      return Status::InvalidArgument("the peer sent height " + std::to_string(h.height) +
                                     " where " + std::to_string(previous.height + 1) +
                                     " was expected");
    }
    if (h.epoch != ctx.epoch) return Status::InvalidArgument(At(h.height) + " is of another epoch");
    if (h.parent_id != previous.id || h.qc_block_id != previous.id) {
      return Status::InvalidArgument(At(h.height) + " is not the child of " + At(previous.height) +
                                     " held here");
    }
    if (h.round <= h.qc_round)
      return Status::InvalidArgument(At(h.height) + ": round not above its QC");
    if (i > 0 && h.qc_round != previous_round) {
      return Status::InvalidArgument(At(h.height) + ": QC round is not its parent's round");
    }
    if (bug != PlantedBug::kSyncSkipsEnvelopeCheck) {
      REEL_RETURN_IF_ERROR(CheckPayload(response.blocks(i), h, ctx.chain_id));
    }
    // The first block's QC certifies our own block, whose round only the QC says.
    REEL_RETURN_IF_ERROR(CheckQc(block->qc, previous, h.qc_round, ctx));
    if (i > 0) {
      range.qcs.push_back(block->qc);
      range.qcs.back().height = previous.height;
    }
    previous = ChainPoint{h.height, block->id};
    previous_round = h.round;
    range.blocks.push_back(std::move(block).value());
  }
  Result<consensus::QuorumCert> last_qc = FromProto(response.last_qc());
  if (!last_qc.ok()) return Status::InvalidArgument("last_qc: " + last_qc.status().message());
  REEL_RETURN_IF_ERROR(CheckQc(*last_qc, previous, previous_round, ctx));
  range.qcs.push_back(*last_qc);
  range.qcs.back().height = previous.height;
  REEL_RETURN_IF_ERROR(VerifyCommitProof(previous.id, response.commit_proof(), ctx));
  range.proof = response.commit_proof();
  if (response.has_epoch_change_proof()) {
    // Checked with the keys of the epoch the range is in, on its last block: a proof
    // that does not hold refuses the range, as any other lie of the peer does.
    const v1::EpochChangeProof& proof = response.epoch_change_proof();
    Result<v1::ValidatorSet> next = VerifyEpochChangeProof(ctx, proof);
    if (!next.ok())
      return Status::InvalidArgument("epoch_change_proof: " + next.status().message());
    Result<crypto::Hash32> id = HeaderId(proof.header(), ctx.chain_id);
    if (!id.ok() || *id != previous.id) {
      return Status::InvalidArgument("epoch_change_proof: not on the range's last block");
    }
    range.epoch_proof = proof;
  }
  return range;
}

Status ApplyRange(LedgerApplication& app, storage::KvStore& store, const SyncedRange& range) {
  REEL_ASSERT(!range.blocks.empty() && range.blocks.size() == range.qcs.size());
  bool applied = false;
  v1::ValidatorSet epoch_set;  // the set of the epoch the last applied block was in
  for (size_t i = 0; i < range.blocks.size(); ++i) {
    const consensus::Block& block = range.blocks[i];
    const uint64_t height = block.header.height;
    if (height <= app.committed_height()) continue;  // consensus got there first
    if (height != app.committed_height() + 1) {
      return Status::FailedPrecondition("the range starts at " + At(height) + ", above height " +
                                        std::to_string(app.committed_height() + 1));
    }
    if (!applied) {
      // The range was checked against the chain as it was when it was asked for;
      // consensus may have committed since. Its first new block must still continue
      // what is here (the rest chain up from it).
      Result<std::optional<std::string>> at =
          store.Get(keys::BlockHeightByIdKey(std::string(crypto::AsBytes(block.header.parent_id))));
      if (!at.ok()) return at.status();
      if (!at->has_value() || **at != keys::EncodeHeight(height - 1)) {
        return Status::FailedPrecondition(At(height) +
                                          " of the range does not continue this node's chain");
      }
    }
    // The range was checked with the keys of the epoch the node was in when it asked;
    // consensus may have ended that epoch since. A block of any epoch but the committed
    // state's is never executed: above the block that ended an epoch, its old set may
    // have certified blocks that no honest node commits.
    Result<v1::ValidatorSet> current = ledger::CurrentValidatorSet(store);
    if (!current.ok()) return current.status();
    epoch_set = *current;
    if (block.header.epoch != current->epoch()) {
      return Status::FailedPrecondition(
          At(height) + " is of epoch " + std::to_string(block.header.epoch) +
          ", and this node's chain is in epoch " + std::to_string(current->epoch()));
    }
    // The state root its header records is one this node computed: a difference means
    // this node's execution differs from the quorum's, and it must not go on. A root it
    // cannot read is no reason to skip the check: the range waits for the next try.
    Result<crypto::Hash32> root = app.CommittedStateRoot(block.header.committed_height);
    if (!root.ok()) {
      const std::string what = At(height) + ": cannot check the state root its header records: ";
      return Status(root.status().code(), what + root.status().message());
    }
    if (*root != block.header.committed_state_root) {
      Fatal(At(height) + " records a state root at height " +
            std::to_string(block.header.committed_height) + " that differs from this node's");
    }
    app.ExecuteCommitted(block, range.qcs[i]);
    app.FlushCommitted();  // what follows reads the store
    applied = true;
    if (app.EpochEndedAt(height).has_value() && i + 1 < range.blocks.size()) {
      // Checked with one epoch's keys, a range cannot hold the next epoch's blocks;
      // this would take more than f faulty validators.
      return Status::FailedPrecondition(At(height) + " ended its epoch, and the range goes on");
    }
  }
  if (applied && app.committed_height() == range.blocks.back().header.height) {
    storage::WriteBatch batch;
    batch.Put(keys::CommitTipKey(), range.proof.SerializeAsString());
    // The range's last block ended its epoch: the proof is kept for good (KEYS.md).
    const consensus::BlockHeader& last = range.blocks.back().header;
    const bool ends_epoch = app.EpochEndedAt(last.height).has_value();
    if (ends_epoch) {
      PutEpochEnd(batch, last.epoch, last.height, range.proof, epoch_set);
      if (range.epoch_proof) {
        REEL_RETURN_IF_ERROR(
            KeepEpochProof(store, range.blocks.back(), *range.epoch_proof, &batch));
      }
    }
    if (Status s = store.Write(batch, /*sync=*/ends_epoch); !s.ok()) {
      // As the replica does for the same record (kv.h: after a failed write the store
      // may refuse every later one; the node stops rather than go on without it).
      Fatal("cannot store the commit proof of synced block " +
            std::to_string(app.committed_height()) + ": " + s.ToString());
    }
  } else if (range.epoch_proof && !applied) {
    // The end was committed here before (by consensus, or a range without the proof):
    // only the proof is new (BlockSync asks for it again when idle).
    storage::WriteBatch batch;
    REEL_RETURN_IF_ERROR(KeepEpochProof(store, range.blocks.back(), *range.epoch_proof, &batch));
    if (Status s = store.Write(batch, /*sync=*/true); !s.ok()) {
      Fatal("cannot store the epoch-change proof of epoch " +
            std::to_string(range.epoch_proof->epoch()) + ": " + s.ToString());
    }
  }
  return Status::Ok();
}

BlockSync::BlockSync(std::string chain_id, SyncPeers* peers, const storage::KvStore* store,
                     Apply apply, Options options, OnError on_error)
    : chain_id_(std::move(chain_id)),
      peers_(peers),
      store_(store),
      apply_(std::move(apply)),
      options_(options),
      on_error_(std::move(on_error)) {}

BlockSync::~BlockSync() {
  Stop();
}

void BlockSync::Start() {
  REEL_ASSERT(!thread_.joinable());
  thread_ = std::thread([this] { Run(); });
}

void BlockSync::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void BlockSync::Run() {
  for (;;) {
    {
      MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (SyncRound()) continue;
    FetchMissingProof();
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.poll_interval_ms);
    MutexLock lock(&mu_);
    while (!stopping_) {
      if (!wake_.WaitUntil(&mu_, deadline)) break;
    }
  }
}

bool BlockSync::SyncRound() {
  auto stopping = [this] {
    MutexLock lock(&mu_);
    return stopping_;
  };
  auto fail = [this](uint32_t peer, const Status& status) {
    if (on_error_) on_error_(peer, status);
  };
  // Every peer that answers, furthest first (ties by index, so the order is fixed).
  std::vector<std::pair<uint64_t, uint32_t>> ahead;
  std::map<uint32_t, uint64_t> epoch_of;  // what each peer says its epoch is
  for (uint32_t peer : peers_->Candidates()) {
    if (stopping()) return false;
    Result<v1::SyncInfo> info = peers_->GetSyncInfo(peer);
    if (!info.ok()) continue;  // down or unreachable: the others may do
    ahead.emplace_back(info->committed_height(), peer);
    epoch_of[peer] = info->epoch();
  }
  std::sort(ahead.begin(), ahead.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  // A peer's word for its height is only a hint: the blocks must prove themselves. A
  // peer whose range fails is counted and the next one is asked, so one faulty peer
  // (f of them, in turn) cannot keep this node behind.
  bool applied = false;
  for (const auto& [claimed_height, peer] : ahead) {
    bool refused = false;
    while (!stopping() && !refused) {
      std::unique_ptr<storage::Snapshot> snapshot = store_->GetSnapshot();
      Result<ChainPoint> here = CommittedPoint(*snapshot, chain_id_);
      if (!here.ok()) {
        fail(peer, here.status());
        return applied;
      }
      // The keys of the epoch the node is in now: after a range that ended an epoch,
      // the next range is checked with the next epoch's.
      Result<EpochState> epoch = ReadEpoch(*snapshot, chain_id_);
      if (!epoch.ok()) {
        fail(peer, epoch.status());
        return applied;
      }
      // A peer in a later epoch is followed even one block ahead: the block that ended
      // this node's epoch may be all it misses, and consensus in the next epoch may need
      // this node's vote. (A lie costs one range that fails to verify.)
      const bool later_epoch = epoch_of[peer] > epoch->epoch;
      if (claimed_height <= here->height ||
          (claimed_height <= here->height + options_.lag_blocks_min && !later_epoch)) {
        // Caught up with this peer; the ones after it claim no more.
        behind_.store(false);
        return applied;
      }
      behind_.store(true);
      v1::GetBlocksRequest request;
      request.set_from_height(here->height + 1);
      request.set_to_height(
          std::min(claimed_height, here->height + limits::net_sync_blocks_per_request_max));
      Result<v1::GetBlocksResponse> response = peers_->GetBlocks(peer, request);
      if (!response.ok()) {
        fail(peer, response.status());
        refused = true;  // unreachable or busy: try the next peer
        continue;
      }
      Result<SyncedRange> range =
          VerifyRange(epoch->Context(chain_id_), *here, *response, options_.bug);
      if (!range.ok()) {
        CountRefused(peer);
        fail(peer, range.status());
        refused = true;
        continue;
      }
      const size_t count = range->blocks.size();
      if (Status s = apply_(std::move(range).value()); !s.ok()) {
        fail(peer, s);
        return applied;
      }
      blocks_synced_.fetch_add(count);
      applied = true;
    }
    if (stopping()) return applied;
  }
  return applied;
}

void BlockSync::FetchMissingProof() {
  std::unique_ptr<storage::Snapshot> snapshot = store_->GetSnapshot();
  Result<v1::ValidatorSet> current = ledger::CurrentValidatorSet(*snapshot);
  if (!current.ok()) return;  // the next round tries again
  // The oldest ended epoch without a proof that this node can check (its end records
  // the ended set; a record written before it did cannot be checked, and is passed).
  std::optional<EpochState> missing;
  for (; proofs_held_below_ < current->epoch(); ++proofs_held_below_) {
    Result<std::optional<v1::EpochChangeProof>> held =
        ReadEpochProof(*snapshot, proofs_held_below_);
    if (!held.ok()) return;
    if (held->has_value()) continue;
    Result<std::optional<EpochState>> ended =
        ReadEndedEpoch(*snapshot, chain_id_, proofs_held_below_);
    if (!ended.ok()) return;
    if (!ended->has_value()) continue;
    missing = std::move(**ended);
    break;
  }
  if (!missing) return;
  Result<std::optional<v1::EpochEnd>> end = ReadEpochEnd(*snapshot, missing->epoch);
  if (!end.ok() || !end->has_value() || (*end)->height() == 0) return;
  const uint64_t height = (*end)->height();
  Result<v1::Block> parent = ReadCommittedBlock(*snapshot, height - 1);
  if (!parent.ok()) return;
  Result<crypto::Hash32> parent_id = HeaderId(parent->header(), chain_id_);
  if (!parent_id.ok()) return;
  const ChainPoint from{height - 1, *parent_id};
  v1::GetBlocksRequest request;
  request.set_from_height(height);
  request.set_to_height(height);
  for (uint32_t peer : peers_->Candidates()) {
    {
      MutexLock lock(&mu_);
      if (stopping_) return;
    }
    Result<v1::GetBlocksResponse> response = peers_->GetBlocks(peer, request);
    if (!response.ok() || !response->has_epoch_change_proof()) continue;  // not made there yet
    Result<SyncedRange> range =
        VerifyRange(missing->Context(chain_id_), from, *response, options_.bug);
    if (!range.ok()) {
      CountRefused(peer);
      if (on_error_) on_error_(peer, range.status());
      continue;
    }
    // The block is committed here already: applying the range keeps only the proof.
    if (Status s = apply_(std::move(range).value()); !s.ok()) {
      if (on_error_) on_error_(peer, s);
    }
    return;
  }
}

void BlockSync::CountRefused(uint32_t peer) {
  MutexLock lock(&mu_);
  ++refused_by_peer_[peer];
  ++refused_total_;
}

std::map<uint32_t, uint64_t> BlockSync::refused_by_peer() const {
  MutexLock lock(&mu_);
  return refused_by_peer_;
}

}  // namespace reel::replica
