#include "node/daemon/peer_glue.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>

#include "base/limits.h"
#include "node/daemon/log.h"
#include "node/ledger/ledger.h"
#include "node/ledger/validators.h"
#include "node/net/tls.h"
#include "node/replica/chain_store.h"
#include "node/storage/keys.h"

namespace reel::daemon {

namespace {

// How long a gRPC thread waits for the loop to answer a peer's block request.
constexpr auto kServeFetchWait = std::chrono::seconds(5);

}  // namespace

Worker::Worker(size_t capacity) : capacity_(capacity), thread_([this] { Run(); }) {}

Worker::~Worker() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    jobs_.clear();
  }
  ready_.SignalAll();
  thread_.join();
}

bool Worker::Post(std::function<void()> job) {
  {
    MutexLock lock(&mu_);
    if (stopping_ || jobs_.size() >= capacity_) {
      ++dropped_;
      return false;
    }
    jobs_.push_back(std::move(job));
  }
  ready_.Signal();
  return true;
}

void Worker::Run() {
  for (;;) {
    std::function<void()> job;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && jobs_.empty()) ready_.Wait(&mu_);
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

// --- NetTransport ----------------------------------------------------------------

Status FollowValidatorSet(const v1::ValidatorSet& set, const std::string& ca_pem,
                          net::Membership* membership, net::Peers* peers) {
  std::vector<std::string> unreachable;
  Result<net::PeerSet> peer_set = net::PeerSet::FromValidatorSet(set, ca_pem, &unreachable);
  if (!peer_set.ok()) return peer_set.status();
  for (const std::string& why : unreachable) {
    Log(LogLevel::kWarn, "p2p", "a validator of the epoch cannot be reached",
        {{"epoch", set.epoch()}, {"error", why}});
  }
  auto shared = std::make_shared<const net::PeerSet>(std::move(peer_set).value());
  if (membership != nullptr) membership->Set(shared);
  if (peers != nullptr) peers->SetPeerSet(shared);
  return Status::Ok();
}

void NetTransport::Send(uint32_t to, const v1::ConsensusMessage& message) {
  const std::shared_ptr<const net::PeerSet> set = peers_->peer_set();
  if (to >= set->size() || to == peers_->self_index() || !set->peer(to).reachable) {
    unreachable_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  peers_->Send(to, message);
}

void NetTransport::Broadcast(const v1::ConsensusMessage& message) {
  peers_->Broadcast(message);
}

void NetTransport::OnEpoch(const replica::EpochState& epoch) {
  if (on_epoch_) on_epoch_(epoch.set);
}

void NetTransport::FetchBlocks(uint32_t peer, const crypto::Hash32& block_id,
                               uint64_t above_height) {
  if (peer >= peers_->size() || peer == peers_->self_index()) {
    unreachable_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  fetches_.Post([this, peer, block_id, above_height] {
    v1::GetBlockByIdRequest request;
    request.set_block_id(std::string(crypto::AsBytes(block_id)));
    request.set_above_height(above_height);
    Result<v1::GetBlockByIdResponse> answer = peers_->GetBlock(peer, request);
    if (!answer.ok() || replica_ == nullptr) return;  // the core asks again later
    std::vector<v1::Block> chain(answer->chain().begin(), answer->chain().end());
    replica_->PostBlocksFetched(peer, std::move(chain));
  });
}

// --- Gossip ------------------------------------------------------------------------

Gossip::Gossip(net::Peers* peers) : peers_(peers) {
  MutexLock lock(&mu_);
  queues_.resize(limits::validators_max);
}

Gossip::~Gossip() {
  std::vector<std::thread> senders;
  {
    MutexLock lock(&mu_);
    stopping_ = true;  // no sender is started, and no stream opened, after this
    for (auto& queue : queues_) {
      if (queue == nullptr) continue;
      // A peer that does not read holds a write back for as long as it likes.
      if (queue->stream != nullptr) queue->stream->Cancel();
      queue->ready.SignalAll();
    }
    senders.swap(senders_);
  }
  for (std::thread& sender : senders) sender.join();
}

bool Gossip::Add(const v1::Transaction& tx) {
  auto shared = std::make_shared<const v1::Transaction>(tx);
  const size_t bytes = tx.ByteSizeLong();
  const uint32_t self = peers_->self_index();
  const size_t size = peers_->size();
  const auto now = std::chrono::steady_clock::now();
  const auto deadline = std::chrono::milliseconds(limits::net_call_deadline_ms);
  bool queued = false;
  MutexLock lock(&mu_);
  if (stopping_) return false;
  for (uint32_t i = 0; i < size; ++i) {
    if (i == self) continue;
    if (queues_[i] == nullptr) {
      // The first time the epoch's set reaches this index: its queue and sender, kept
      // for good (an index is whichever validator holds it in the epoch of the moment).
      queues_[i] = std::make_unique<PeerQueue>();
      PeerQueue* queue = queues_[i].get();
      senders_.emplace_back([this, i, queue] { Run(i, queue); });
    }
    PeerQueue& queue = *queues_[i];
    // A peer that accepts a stream and never answers or reads would hold its sender,
    // and what waits for it, for good. Checked here, where transactions arrive: while
    // none do, a blocked sender holds nothing new.
    if (queue.stream != nullptr && queue.blocked_since != std::chrono::steady_clock::time_point{} &&
        now - queue.blocked_since > deadline) {
      queue.stream->Cancel();
    }
    if (queue.pending.size() >= limits::gossip_queue_txs_per_peer_max ||
        queue.pending_bytes + bytes > limits::gossip_queue_bytes_per_peer_max) {
      dropped_.fetch_add(1);
      continue;
    }
    queue.pending.push_back(Pending{shared, bytes, now});
    queue.pending_bytes += bytes;
    // A sender's due time changes only with the first transaction or a full batch: a
    // wakeup per transaction per peer would cost more than the gossip (two busy cores).
    if (queue.pending.size() == 1 || queue.pending.size() == limits::gossip_batch_txs) {
      queue.ready.Signal();
    }
    queued = true;
  }
  return queued;
}

std::chrono::steady_clock::time_point GossipBatchDue(
    size_t waiting, std::chrono::steady_clock::time_point oldest_queued,
    std::chrono::steady_clock::time_point last_write_end) {
  if (waiting == 0) return std::chrono::steady_clock::time_point::max();
  if (waiting >= limits::gossip_batch_txs) return oldest_queued;
  return std::max(oldest_queued, last_write_end) +
         std::chrono::milliseconds(limits::gossip_linger_ms);
}

void Gossip::Run(uint32_t peer, PeerQueue* queue) {
  Sender sender;
  for (;;) {
    v1::GossipTxsRequest batch;
    {
      MutexLock lock(&mu_);
      for (;;) {
        if (stopping_) break;
        const auto due =
            GossipBatchDue(queue->pending.size(),
                           queue->pending.empty() ? std::chrono::steady_clock::time_point{}
                                                  : queue->pending.front().queued_at,
                           queue->last_write_end);
        if (due == std::chrono::steady_clock::time_point::max()) {
          queue->ready.Wait(&mu_);
        } else if (std::chrono::steady_clock::now() < due) {
          queue->ready.WaitUntil(&mu_, due);
        } else {
          break;
        }
      }
      if (stopping_) break;
      if (sender.stream == nullptr && std::chrono::steady_clock::now() < sender.retry_at) {
        // No stream, and none may be opened yet: what waits would only be copied to be
        // dropped.
        dropped_.fetch_add(queue->pending.size());
        queue->pending.clear();
        queue->pending_bytes = 0;
        continue;
      }
      size_t bytes = 0;
      while (!queue->pending.empty() &&
             static_cast<size_t>(batch.txs_size()) < limits::net_gossip_txs_max &&
             (batch.txs_size() == 0 ||
              bytes + queue->pending.front().bytes <= limits::gossip_batch_bytes_max)) {
        const Pending& next = queue->pending.front();
        *batch.add_txs() = *next.tx;
        bytes += next.bytes;
        queue->pending_bytes -= next.bytes;
        queue->pending.pop_front();
      }
    }
    if (!Write(peer, queue, &sender, batch)) dropped_.fetch_add(batch.txs_size());
    MutexLock lock(&mu_);
    queue->last_write_end = std::chrono::steady_clock::now();
  }
  CloseStream(queue, &sender);
}

void Gossip::BackOff(Sender* sender) {
  sender->retry_at =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(sender->backoff_ms);
  sender->backoff_ms = std::min(sender->backoff_ms * 2, limits::net_reconnect_backoff_ms_max);
}

void Gossip::SetBlocked(PeerQueue* queue, bool blocked) {
  MutexLock lock(&mu_);
  queue->blocked_since =
      blocked ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
}

bool Gossip::Write(uint32_t peer, PeerQueue* queue, Sender* sender,
                   const v1::GossipTxsRequest& batch) {
  const std::shared_ptr<const net::PeerSet> set = peers_->peer_set();
  const net::PeerInfo* holder = peer < set->peers().size() ? &set->peers()[peer] : nullptr;
  // An epoch may have put another validator at this index (or none): its stream, and its
  // backoff, are not the new one's.
  if (sender->stream != nullptr && (holder == nullptr || !holder->SameEndpoint(sender->peer))) {
    CloseStream(queue, sender);
    sender->backoff_ms = limits::net_reconnect_backoff_ms_min;
    sender->retry_at = {};
  }
  if (sender->stream == nullptr) {
    if (std::chrono::steady_clock::now() < sender->retry_at) return false;
    Result<std::unique_ptr<net::TxStream>> made = peers_->NewTxStream(peer);
    if (!made.ok() || holder == nullptr) {
      BackOff(sender);  // not a validator the transport reaches
      return false;
    }
    {
      MutexLock lock(&mu_);
      if (stopping_) return false;
      queue->stream = made->get();
    }
    sender->stream = std::move(*made);
    sender->peer = *holder;
    SetBlocked(queue, true);
    const Status opened = sender->stream->Open();
    SetBlocked(queue, false);
    if (!opened.ok()) {
      // Down, refusing us, or not the validator its epoch names: try again later.
      CloseStream(queue, sender);
      BackOff(sender);
      return false;
    }
  }
  SetBlocked(queue, true);
  const bool written = sender->stream->Write(batch);
  SetBlocked(queue, false);
  if (written) {
    sender->backoff_ms = limits::net_reconnect_backoff_ms_min;
    return true;
  }
  // Broken, or cancelled at the deadline: the next batch opens another, after a backoff
  // (a peer that accepts streams and ends them at once gets one attempt per backoff).
  CloseStream(queue, sender);
  BackOff(sender);
  return false;
}

void Gossip::CloseStream(PeerQueue* queue, Sender* sender) {
  if (sender->stream == nullptr) return;
  {
    MutexLock lock(&mu_);
    queue->stream = nullptr;
  }
  sender->stream.reset();  // cancels it if open, and waits for its end
}

// --- Block sync --------------------------------------------------------------------

std::vector<uint32_t> PeerSyncSource::Candidates() const {
  const std::shared_ptr<const net::PeerSet> set = peers_->peer_set();
  const uint32_t self = peers_->self_index();
  std::vector<uint32_t> out;
  for (const net::PeerInfo& peer : set->peers()) {
    if (peer.index != self && peer.reachable) out.push_back(peer.index);
  }
  return out;
}

Status ApplyOnReplica(replica::Replica* replica, replica::SyncedRange range,
                      const std::atomic<bool>& stopping) {
  auto outcome = std::make_shared<std::promise<Status>>();
  std::future<Status> done = outcome->get_future();
  replica->PostSyncedRange(std::move(range),
                           [outcome](Status s) { outcome->set_value(std::move(s)); });
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(limits::sync_apply_wait_ms);
  while (done.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    if (stopping.load()) return Status::FailedPrecondition("the node is stopping");
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::ResourceExhausted("the replica did not apply the synced blocks in time");
    }
  }
  return done.get();
}

// --- NodePeerHandler -----------------------------------------------------------------

NodePeerHandler::NodePeerHandler(replica::Replica* replica, mempool::Admission* admission,
                                 storage::KvStore* store, std::string chain_id,
                                 InboundBounds bounds)
    : replica_(replica),
      admission_(admission),
      store_(store),
      chain_id_(std::move(chain_id)),
      inbound_(std::make_shared<Inbound>(bounds)) {}

bool NodePeerHandler::OnConsensusMessage(uint32_t from_index, v1::ConsensusMessage message) {
  // The peer server authenticated the sender as validator `from_index` of this node's
  // epoch (a removed validator is refused there).
  const uint32_t sender = from_index;
  // Memory, not wire bytes: what the queued message holds is what a flood would grow.
  const size_t bytes = message.SpaceUsedLong();
  bool queued = inbound_->consensus.TryTake(from_index, bytes);
  if (!queued) {
    // Beyond its budget: this stream is not read until the loop makes room, so flow
    // control slows the sender down; a loop that makes none in time drops the message.
    inbound_->throttled[from_index].fetch_add(1, std::memory_order_relaxed);
    queued = inbound_->consensus.Take(from_index, bytes, inbound_->consensus_wait);
  }
  if (!queued) {
    inbound_->drops.Count(from_index, DropKindOf(message));
    return false;
  }
  replica_->PostMessage(sender, std::move(message), [inbound = inbound_, from_index, bytes] {
    inbound->consensus.Give(from_index, bytes);
  });
  return true;
}

Status NodePeerHandler::OnGossipTxs(uint32_t from_index, const v1::GossipTxsRequest& request,
                                    v1::GossipTxsResponse* response) {
  std::vector<v1::Transaction> txs(request.txs().begin(), request.txs().end());
  std::unique_ptr<storage::Snapshot> snapshot = store_->GetSnapshot();
  Result<uint64_t> height = replica::CommittedHeight(*snapshot);
  if (!height.ok()) return height.status();  // not the transactions' fault
  for (const Result<crypto::Hash32>& answer : admission_->Admit(txs, *snapshot, *height + 1)) {
    if (answer.ok() || answer.status().code() == Code::kAlreadyExists) {
      response->add_codes(v1::OK);
    } else if (answer.status().detail() != 0) {
      response->add_codes(ledger::ErrorCodeOf(answer.status()));
    } else {
      // A full queue or mempool, or a store that failed: this node's state, not a rule
      // the transaction broke, so no ErrorCode fits (peer.proto).
      return answer.status();
    }
  }
  return Status::Ok();
}

// One read of committed blocks for a peer: holds one of its read places while it lives,
// after waiting for the peer's pace (each wait up to block_read_wait).
class NodePeerHandler::BlockRead {
 public:
  BlockRead(Inbound& inbound, uint32_t peer) : inbound_(inbound), peer_(peer) {
    held_ = inbound_.block_reads.Take(peer_, 0, inbound_.block_read_wait);
    if (!held_) return;
    const std::chrono::milliseconds wait = inbound_.block_pace.Wait(peer_, PeerPace::Clock::now());
    if (wait > inbound_.block_read_wait) {
      inbound_.block_reads.Give(peer_, 0);
      held_ = false;
      return;
    }
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
  }
  ~BlockRead() {
    if (held_) inbound_.block_reads.Give(peer_, 0);
  }
  BlockRead(const BlockRead&) = delete;
  BlockRead& operator=(const BlockRead&) = delete;
  bool held() const { return held_; }
  // What was read and sent, against the peer's pace.
  void Sent(size_t bytes) { inbound_.block_pace.Charge(peer_, bytes, PeerPace::Clock::now()); }

 private:
  Inbound& inbound_;
  const uint32_t peer_;
  bool held_ = false;
};

Status NodePeerHandler::GetBlocks(uint32_t from_index, const v1::GetBlocksRequest& request,
                                  v1::GetBlocksResponse* response) {
  BlockRead read(*inbound_, from_index);
  if (!read.held()) {
    inbound_->drops.Count(from_index, DropKind::kRangeRequest);
    return Status::ResourceExhausted("too many block reads of this peer at once");
  }
  Result<v1::GetBlocksResponse> range = replica::ReadRange(
      *store_->GetSnapshot(), chain_id_, request.from_height(), request.to_height());
  if (!range.ok()) return range.status();
  *response = std::move(range).value();
  read.Sent(response->ByteSizeLong());
  return Status::Ok();
}

Status NodePeerHandler::GetBlock(uint32_t from_index, const v1::GetBlockByIdRequest& request,
                                 v1::GetBlockByIdResponse* response) {
  crypto::Hash32 id;
  std::copy(request.block_id().begin(), request.block_id().end(), id.begin());
  // A committed block's ancestry is on disk: answered on this thread, the loop untouched,
  // a bounded number at once per peer.
  {
    BlockRead read(*inbound_, from_index);
    if (!read.held()) {
      inbound_->drops.Count(from_index, DropKind::kBlockRequest);
      return Status::ResourceExhausted("too many block reads of this peer at once");
    }
    std::unique_ptr<storage::Snapshot> snapshot = store_->GetSnapshot();
    Result<std::optional<uint64_t>> committed = replica::CommittedHeightOf(*snapshot, id);
    if (!committed.ok()) return committed.status();
    if (committed->has_value()) {
      for (v1::Block& block : replica::FetchAnswer(*snapshot, id, request.above_height(), {})) {
        *response->add_chain() = std::move(block);
      }
      read.Sent(response->ByteSizeLong());
      return Status::Ok();
    }
  }
  // Only the loop knows the block tree. A request whose caller gave up waiting stays
  // queued until the loop runs it, so the peer server's bound on calls in flight does not
  // bound these: this does.
  if (!inbound_->block_requests.TryTake(from_index, 0)) {
    inbound_->drops.Count(from_index, DropKind::kBlockRequest);
    return Status::ResourceExhausted("too many block requests of this peer wait for the node");
  }
  auto answer = std::make_shared<std::promise<replica::TreeAncestry>>();
  std::future<replica::TreeAncestry> ready = answer->get_future();
  replica_->PostServeTreeAncestry(
      id, request.above_height(),
      [answer, inbound = inbound_, from_index](replica::TreeAncestry tree) {
        inbound->block_requests.Give(from_index, 0);
        answer->set_value(std::move(tree));
      });
  if (ready.wait_for(kServeFetchWait) != std::future_status::ready) {
    return Status::ResourceExhausted("node busy: block request not answered in time");
  }
  BlockRead read(*inbound_, from_index);
  if (!read.held()) {
    inbound_->drops.Count(from_index, DropKind::kBlockRequest);
    return Status::ResourceExhausted("too many block reads of this peer at once");
  }
  for (v1::Block& block :
       replica::FetchAnswer(*store_->GetSnapshot(), id, request.above_height(), ready.get())) {
    *response->add_chain() = std::move(block);
  }
  read.Sent(response->ByteSizeLong());
  return Status::Ok();
}

Status NodePeerHandler::GetSyncInfo(uint32_t from_index, v1::SyncInfo* response) {
  std::unique_ptr<storage::Snapshot> snapshot = store_->GetSnapshot();
  Result<uint64_t> height = replica::CommittedHeight(*snapshot);
  if (!height.ok()) return height.status();
  Result<v1::ValidatorSet> set = ledger::CurrentValidatorSet(*snapshot);
  if (!set.ok()) return set.status();
  response->set_epoch(set->epoch());
  response->set_committed_height(*height);
  return Status::Ok();
}

}  // namespace reel::daemon
