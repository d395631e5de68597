#include "node/replica/replica.h"

#include <chrono>
#include <cstdio>
#include <variant>

#include "base/overloaded.h"
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
      io_(io),
      store_(store),
      app_(app),
      transport_(transport),
      core_(std::make_unique<consensus::Core>(config_.consensus, std::move(key), app)),
      timer_(*io) {}

Replica::~Replica() {
  *alive_ = false;
}

size_t Replica::HistoryBlocks() const {
  return consensus::LeaderSchedule::HistoryBlocksMax(config_.consensus.validators.n());
}

uint64_t Replica::Now() const {
  if (config_.clock) return config_.clock();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

Status Replica::Start() {
  Result<consensus::StartState> start =
      LoadStartState(*store_, config_.consensus.chain_id, HistoryBlocks());
  if (!start.ok()) return start.status();
  Handle(core_->OnStart(*start, Now()));
  started_ = true;
  ScheduleTick();
  return Status::Ok();
}

void Replica::Stop() {
  stopped_ = true;
  timer_.cancel();
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
  if (!Running()) return;
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
    if (!*alive || !Running()) return;
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
      Result<consensus::StartState> start =
          LoadStartState(*store_, config_.consensus.chain_id, HistoryBlocks());
      if (!start.ok())
        Fatal("cannot reload the chain after block sync: " + start.status().ToString());
      Handle(core_->OnSynced(*start, Now()));
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
  for (const consensus::Action& action : step.actions) {
    std::visit(
        Overloaded{
            [&](const consensus::Persist& persist) { PersistSafetyState(persist.state); },
            [&](const consensus::StoreBlock& stored) { StorePendingBlock(stored.block); },
            [&](const consensus::Send& send) { SendMessage(send.to, send.message); },
            [&](const consensus::Broadcast& broadcast) { BroadcastMessage(broadcast.message); },
            [&](const consensus::FetchBlocks& fetch) {
              transport_->FetchBlocks(fetch.from_peer, fetch.block_id, fetch.above_height);
            },
            [&](const consensus::Commit& commit) { StoreCommitProof(commit); },
        },
        action);
  }
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
  const uint32_t self = config_.consensus.self_index;
  v1::ConsensusMessage proto = ToProto(self, config_.consensus.epoch, message);
  if (to == self) {
    PostMessage(self, std::move(proto));
  } else {
    transport_->Send(to, proto);
  }
}

void Replica::BroadcastMessage(const consensus::Message& message) {
  const uint32_t self = config_.consensus.self_index;
  v1::ConsensusMessage proto = ToProto(self, config_.consensus.epoch, message);
  transport_->Broadcast(proto);
  PostMessage(self, std::move(proto));
}

void Replica::StoreCommitProof(const consensus::Commit& commit) {
  // The application has already written and announced each block; what proves the newest
  // one is only here. Unsynced: a crash that loses it leaves an older tip, which readers
  // recognise and ignore until the next commit.
  storage::WriteBatch batch;
  batch.Put(keys::CommitTipKey(), CommitProofOf(commit).SerializeAsString());
  if (Status s = store_->Write(batch, /*sync=*/false); !s.ok()) {
    Fatal("cannot store the commit proof: " + s.ToString());
  }
}

}  // namespace reel::replica
