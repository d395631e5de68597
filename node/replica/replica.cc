#include "node/replica/replica.h"

#include <chrono>
#include <cstdio>
#include <variant>

#include "base/overloaded.h"
#include "node/ledger/validators.h"
#include "node/replica/chain_store.h"
#include "node/replica/codec.h"
#include "node/replica/commit_proof.h"
#include "node/replica/internal.h"
#include "node/storage/keys.h"

namespace reel::replica {

namespace keys = storage::keys;
using internal::Fatal;
using internal::IdBytes;

Replica::Replica(ReplicaConfig config, crypto::KeyPair key, asio::io_context* io,
                 storage::KvStore* store, LedgerApplication* app, Transport* transport)
    : config_(std::move(config)),
      key_(std::move(key)),
      io_(io),
      store_(store),
      app_(app),
      transport_(transport),
      timer_(*io) {}

Replica::~Replica() {
  *alive_ = false;
}

size_t Replica::HistoryBlocks() const {
  return consensus::LeaderSchedule::HistoryBlocksMax(epoch_.keys.n());
}

namespace {

// Transactions Prepare executes per turn of the loop: a few ms of work. The WAN
// benchmark's blocks of ~500 took one turn of ~60 ms, which a vote or proposal that
// arrived meanwhile waited through (DECISIONS, "Prepare in turns").
constexpr size_t kPrepareTxsPerTurn = 64;

// Each core gets its own copy of the validator key (a core owns the key it signs with).
crypto::KeyPair CopyKey(const crypto::KeyPair& key) {
  std::string seed = key.ExportSeed();
  Result<crypto::KeyPair> copy = crypto::KeyPair::FromSeed(seed);
  crypto::WipeString(seed);
  REEL_ASSERT(copy.ok());
  return std::move(copy).value();
}

}  // namespace

void ApplyConsensusParams(const v1::ConsensusParams& params, consensus::Config* config) {
  if (params.round_timeout_ms() != 0) config->round_timeout_ms_initial = params.round_timeout_ms();
  if (params.round_timeout_max_ms() != 0) {
    config->round_timeout_ms_max = params.round_timeout_max_ms();
  }
  if (params.block_interval_min_ms() != 0) {
    config->block_interval_ms_min = params.block_interval_min_ms();
  }
  if (params.idle_block_interval_ms() != 0) {
    config->idle_block_interval_ms = params.idle_block_interval_ms();
  }
  if (params.round_timeout_backoff_percent() != 0) {
    config->round_timeout_backoff_percent = params.round_timeout_backoff_percent();
  }
  if (params.clock_drift_max_ms() != 0)
    config->timestamp_drift_ms_max = params.clock_drift_max_ms();
  if (params.block_txs_max() != 0) config->block_txs_max = params.block_txs_max();
  if (params.block_bytes_max() != 0) config->block_bytes_max = params.block_bytes_max();
}

void Replica::EnterEpoch() {
  Result<EpochState> epoch = ReadEpoch(*store_, config_.consensus.chain_id);
  if (!epoch.ok())
    Fatal("cannot read the epoch of the committed state: " + epoch.status().ToString());
  if (core_ != nullptr) view_changes_before_ += core_->view_changes();
  core_.reset();
  epoch_ = std::move(epoch).value();
  transport_->OnEpoch(epoch_);
  const std::optional<uint32_t> self = epoch_.IndexOf(key_.public_key());
  if (!self) return;  // not a validator of this epoch: block sync brings what it executes
  consensus::Config config = config_.consensus;
  config.epoch = epoch_.epoch;
  config.epoch_root_id = epoch_.root_id;
  config.epoch_root_height = epoch_.root_height;
  config.validators = epoch_.keys;
  config.self_index = *self;
  ApplyConsensusParams(epoch_.set.consensus(), &config);
  core_ = std::make_unique<consensus::Core>(std::move(config), CopyKey(key_), app_);
  Result<consensus::StartState> start =
      LoadStartState(*store_, config_.consensus.chain_id, HistoryBlocks());
  if (!start.ok())
    Fatal("cannot load the chain to start epoch " + std::to_string(epoch_.epoch) + ": " +
          start.status().ToString());
  Handle(core_->OnStart(*start, Now()));
}

uint64_t Replica::Now() const {
  if (config_.clock) return config_.clock();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

Status Replica::Start() {
  // What a restart needs must be readable, before EnterEpoch treats a failure as fatal.
  Result<EpochState> epoch = ReadEpoch(*store_, config_.consensus.chain_id);
  if (!epoch.ok()) return epoch.status();
  Result<consensus::StartState> start =
      LoadStartState(*store_, config_.consensus.chain_id,
                     consensus::LeaderSchedule::HistoryBlocksMax(epoch->keys.n()));
  if (!start.ok()) return start.status();
  // Handle flushes every step's commits once its messages are out.
  app_->set_defer_commit_writes(true);
  EnterEpoch();
  started_ = true;
  ScheduleTick();
  return Status::Ok();
}

void Replica::Stop() {
  stopped_ = true;
  timer_.cancel();
  app_->DropPrepare();  // its turns stop here; its snapshot must not outlive the store
}

void Replica::ScheduleTick() {
  if (stopped_ || config_.tick_ms == 0) return;  // 0: the driver ticks (Tick)
  timer_.expires_after(std::chrono::milliseconds(config_.tick_ms));
  timer_.async_wait([this, alive = alive_](const std::error_code& ec) {
    if (ec || !*alive || stopped_) return;
    Tick();
    ScheduleTick();
  });
}

void Replica::Tick() {
  if (!Running() || core_ == nullptr) return;
  Handle(core_->OnTick(Now()));
}

void Replica::PostMessage(uint32_t from, v1::ConsensusMessage message,
                          std::function<void()> handled) {
  asio::post(*io_, [this, alive = alive_, from, message = std::move(message),
                    handled = std::move(handled)] {
    // However the message ends below, its sender's budget gets it back.
    struct Done {
      const std::function<void()>& handled;
      ~Done() {
        if (handled) handled();
      }
    } done{handled};
    if (!*alive || !Running()) return;
    if (message.has_epoch_change_vote()) {
      // Not for the core; its signature, not the sender index, says whose it is.
      OnEpochChangeVote(message.epoch_change_vote());
      return;
    }
    if (core_ == nullptr) return;
    // The authenticated sender, not the claimed one, is who the core hears from.
    if (message.sender_index() != from) return;
    Result<consensus::Message> decoded = FromProto(message, config_.consensus.chain_id);
    if (!decoded.ok()) return;  // malformed: dropped here, not counted anywhere yet
    Deliver(from, *decoded);
  });
}

void Replica::Deliver(uint32_t from, const consensus::Message& message) {
  Handle(std::visit(Overloaded{
                        [&](const consensus::Proposal& p) { return core_->OnProposal(from, p); },
                        [&](const consensus::Vote& v) { return core_->OnVote(from, v); },
                        [&](const consensus::Timeout& t) { return core_->OnTimeout(from, t); },
                    },
                    message));
}

void Replica::PostBlocksFetched(uint32_t from, std::vector<v1::Block> blocks) {
  asio::post(*io_, [this, alive = alive_, from, blocks = std::move(blocks)] {
    if (!*alive || !Running() || core_ == nullptr) return;
    std::vector<consensus::Block> decoded;
    for (const v1::Block& b : blocks) {
      Result<consensus::Block> block = FromProto(b, config_.consensus.chain_id);
      if (!block.ok()) break;  // the rest would not connect anyway
      decoded.push_back(std::move(block).value());
    }
    Handle(core_->OnBlocksFetched(from, std::move(decoded)));
  });
}

void Replica::PostSyncedRange(SyncedRange range, std::function<void(Status)> done) {
  asio::post(*io_, [this, alive = alive_, range = std::move(range), done = std::move(done)] {
    if (!*alive || !Running()) {
      done(Status::FailedPrecondition("the replica is not running"));
      return;
    }
    const uint64_t before = app_->committed_height();
    Status applied = ApplyRange(*app_, *store_, range);
    if (app_->committed_height() > before) {
      // Even a range applied in part moved the committed block under the core.
      Result<EpochState> now_in = ReadEpoch(*store_, config_.consensus.chain_id);
      if (!now_in.ok())
        Fatal("cannot read the epoch after block sync: " + now_in.status().ToString());
      if (now_in->epoch != epoch_.epoch || core_ == nullptr) {
        if (now_in->epoch != epoch_.epoch) OnEpochEnded();
        EnterEpoch();  // a new epoch, or still none to vote in: the core (if any) starts over
      } else {
        Result<consensus::StartState> start =
            LoadStartState(*store_, config_.consensus.chain_id, HistoryBlocks());
        if (!start.ok())
          Fatal("cannot reload the chain after block sync: " + start.status().ToString());
        Handle(core_->OnSynced(*start, Now()));
      }
    }
    done(applied);
  });
}

void Replica::PostServeFetch(const crypto::Hash32& block_id, uint64_t above_height,
                             std::function<void(std::vector<v1::Block>)> reply) {
  asio::post(*io_, [this, alive = alive_, block_id, above_height, reply = std::move(reply)] {
    if (!*alive) return;
    // Before Start the core has no block tree: nothing to serve yet.
    reply(started_
              ? FetchAnswer(*store_, block_id, above_height, TreeAncestryOf(block_id, above_height))
              : std::vector<v1::Block>{});
  });
}

void Replica::PostServeTreeAncestry(const crypto::Hash32& block_id, uint64_t above_height,
                                    std::function<void(TreeAncestry)> reply) {
  asio::post(*io_, [this, alive = alive_, block_id, above_height, reply = std::move(reply)] {
    if (!*alive) return;
    reply(started_ ? TreeAncestryOf(block_id, above_height) : TreeAncestry{});
  });
}

TreeAncestry Replica::TreeAncestryOf(const crypto::Hash32& block_id, uint64_t above_height) const {
  TreeAncestry out;
  if (core_ == nullptr) return out;
  const consensus::Block* block = core_->tree().Find(block_id);
  if (block == nullptr) return out;  // committed (on disk), or unknown
  out.found = true;
  out.committed_height = core_->committed_height();
  // Walk back to the committed block, then convert only the oldest blocks the answer
  // has room for, and no more bytes than it carries (serve_fetch.h).
  std::vector<const consensus::Block*> newest_first;
  while (block != nullptr && block->header.height > out.committed_height &&
         block->header.height > above_height) {
    newest_first.push_back(block);
    block = core_->tree().Parent(*block);
  }
  const size_t room = FetchRoomAbove(above_height, out.committed_height);
  size_t bytes = 0;
  for (auto it = newest_first.rbegin(); it != newest_first.rend(); ++it) {
    if (out.blocks.size() >= room || bytes > limits::block_bytes_max) break;
    out.blocks.push_back(ToProto(**it));
    bytes += out.blocks.back().ByteSizeLong();
  }
  return out;
}

// One lambda per kind of action, so that an action the core gains is a compile error
// here until the replica carries it out.
void Replica::Handle(consensus::Step step) {
  bool epoch_ended = false;
  std::vector<const consensus::Commit*> commits;
  for (const consensus::Action& action : step.actions) {
    // The ended core's remaining actions are of an epoch that is over.
    if (epoch_ended) break;
    std::visit(
        Overloaded{
            [&](const consensus::Persist& persist) { PersistSafetyState(persist.state); },
            [&](const consensus::StoreBlock& stored) { StorePendingBlock(stored.block); },
            [&](const consensus::Send& send) { SendMessage(send.to, send.message); },
            [&](const consensus::Broadcast& broadcast) { BroadcastMessage(broadcast.message); },
            [&](const consensus::FetchBlocks& fetch) {
              transport_->FetchBlocks(fetch.from_peer, fetch.block_id, fetch.above_height);
            },
            [&](const consensus::Commit& commit) {
              commits.push_back(&commit);
              epoch_ended = commit.next_epoch.has_value();
            },
        },
        action);
  }
  // The step's vote or proposal is out: now the committed blocks' writes (the last one
  // was staged: LedgerApplication, "Deferred commit writes"), then their proof.
  app_->FlushCommitted();
  for (const consensus::Commit* commit : commits) StoreCommitProof(*commit);
  if (epoch_ended) {
    OnEpochEnded();
    EnterEpoch();
  }
  SchedulePrepare();
}

void Replica::SchedulePrepare() {
  if (prepare_posted_ || core_ == nullptr) return;
  prepare_posted_ = true;
  asio::post(*io_, [this, alive = alive_] {
    if (!*alive) return;
    prepare_posted_ = false;
    if (!Running() || core_ == nullptr) return;
    const consensus::Block* next = core_->tree().Find(core_->safety_state().high_qc.block_id);
    // In turns: a message that arrives meanwhile waits for one turn, not for the block.
    if (next != nullptr && !app_->Prepare(*next, kPrepareTxsPerTurn)) SchedulePrepare();
  });
}

void Replica::PersistSafetyState(const consensus::SafetyState& state) {
  storage::WriteBatch batch;
  PutSafetyState(batch, state);
  if (Status s = store_->Write(batch, /*sync=*/true); !s.ok()) {
    // Sending without the safety state on disk could sign twice after a crash.
    Fatal("cannot persist the safety state: " + s.ToString());
  }
}

void Replica::StorePendingBlock(const consensus::Block& block) {
  storage::WriteBatch batch;
  batch.Put(keys::PendingBlockKey(IdBytes(block.id)), ToProto(block).SerializeAsString());
  if (Status s = store_->Write(batch, /*sync=*/false); !s.ok()) {
    Fatal("cannot store a block: " + s.ToString());
  }
}

void Replica::SendMessage(uint32_t to, const consensus::Message& message) {
  const uint32_t self = core_->config().self_index;
  v1::ConsensusMessage proto = ToProto(self, epoch_.epoch, message);
  if (to == self) {
    PostMessage(self, std::move(proto));
  } else {
    transport_->Send(to, proto);
  }
}

void Replica::BroadcastMessage(const consensus::Message& message) {
  const uint32_t self = core_->config().self_index;
  v1::ConsensusMessage proto = ToProto(self, epoch_.epoch, message);
  transport_->Broadcast(proto);
  PostMessage(self, std::move(proto));
}

void Replica::StoreCommitProof(const consensus::Commit& commit) {
  // The application has already written and announced each block; what proves the newest
  // one is only here. Unsynced: a crash that loses it leaves an older tip, which readers
  // recognise and ignore until the next commit.
  storage::WriteBatch batch;
  const v1::CommitProof proof = CommitProofOf(commit);
  batch.Put(keys::CommitTipKey(), proof.SerializeAsString());
  // The end of an epoch is kept for good, synced: its proof is nowhere else. (A crash
  // between the ending block's batch and this write loses it on this node only.)
  const bool ends_epoch = commit.next_epoch.has_value();
  if (ends_epoch) {
    PutEpochEnd(batch, epoch_.epoch, commit.blocks.back().block.header.height, proof, epoch_.set);
  }
  if (Status s = store_->Write(batch, /*sync=*/ends_epoch); !s.ok()) {
    Fatal("cannot store the commit proof: " + s.ToString());
  }
}

void Replica::OnEpochEnded() {
  const std::string& chain_id = config_.consensus.chain_id;
  // Votes that came before this replica's own end are kept; any other aggregator is of
  // an older epoch, whose proof block sync brings if it was not made.
  if (current_votes_ && current_votes_->epoch() == epoch_.epoch) {
    ended_votes_ = std::move(current_votes_);
  } else {
    ended_votes_.emplace(chain_id, epoch_);
  }
  current_votes_.reset();
  // The statement, from this node's own committed state only.
  Result<std::optional<v1::EpochEnd>> end = ReadEpochEnd(*store_, epoch_.epoch);
  if (!end.ok()) Fatal("cannot read the end of epoch " + std::to_string(epoch_.epoch));
  if (!end->has_value()) {
    // Lost to a failed write (StoreCommitProof): nothing to sign; a peer's proof may come.
    ended_votes_.reset();
    return;
  }
  Result<v1::Block> block = ReadCommittedBlock(*store_, (*end)->height());
  if (!block.ok()) Fatal("cannot read the block that ended epoch " + std::to_string(epoch_.epoch));
  Result<v1::ValidatorSet> next = ledger::CurrentValidatorSet(*store_);
  if (!next.ok()) Fatal("cannot read the next validator set: " + next.status().ToString());
  Result<std::optional<v1::EpochChangeProof>> made =
      ended_votes_->SetStatement(block->header(), (*end)->proof(), *next);
  // Made of records this node wrote itself; a refusal would be a bug, not a peer's lie.
  REEL_ASSERT(made.ok());
  if (made->has_value()) KeepEpochProof(**made);
  const std::optional<uint32_t> self = epoch_.IndexOf(key_.public_key());
  if (!self) return;  // not a validator of the epoch that ended: nothing to sign
  Result<EpochChangeStatement> statement = EpochChangeStatementOf(chain_id, block->header(), *next);
  REEL_ASSERT(statement.ok());  // SetStatement accepted the same
  v1::ConsensusMessage message;
  message.set_sender_index(*self);
  message.set_epoch(epoch_.epoch);
  *message.mutable_epoch_change_vote() = SignEpochChange(chain_id, *statement, *self, key_);
  Result<std::optional<v1::EpochChangeProof>> own = ended_votes_->Add(message.epoch_change_vote());
  REEL_ASSERT(own.ok());
  if (own->has_value()) KeepEpochProof(**own);
  transport_->Broadcast(message);
}

void Replica::OnEpochChangeVote(const v1::EpochChangeVote& vote) {
  EpochChangeAggregator* votes = nullptr;
  if (ended_votes_ && vote.epoch() == ended_votes_->epoch()) {
    votes = &*ended_votes_;
  } else if (vote.epoch() == epoch_.epoch) {
    if (!current_votes_) current_votes_.emplace(config_.consensus.chain_id, epoch_);
    votes = &*current_votes_;
  } else {
    return;  // an epoch this replica collects no votes of (any more)
  }
  if (votes->proof().has_value()) return;  // made already
  Result<std::optional<v1::EpochChangeProof>> made = votes->Add(vote);
  // A refused vote (bad signature, not a validator's, a second statement) is dropped.
  if (made.ok() && made->has_value()) KeepEpochProof(**made);
}

void Replica::KeepEpochProof(const v1::EpochChangeProof& proof) {
  Result<std::optional<v1::EpochChangeProof>> held = ReadEpochProof(*store_, proof.epoch());
  if (!held.ok()) Fatal("cannot read the epoch-change proofs: " + held.status().ToString());
  if (held->has_value()) return;  // block sync brought one first
  storage::WriteBatch batch;
  PutEpochProof(batch, proof);
  if (Status s = store_->Write(batch, /*sync=*/true); !s.ok()) {
    Fatal("cannot store the epoch-change proof of epoch " + std::to_string(proof.epoch()) + ": " +
          s.ToString());
  }
}

}  // namespace reel::replica
