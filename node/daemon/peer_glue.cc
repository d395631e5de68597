#include "node/daemon/peer_glue.h"

#include <chrono>
#include <future>
#include <thread>

#include "base/limits.h"
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
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    jobs_.clear();
  }
  ready_.notify_all();
  thread_.join();
}

bool Worker::Post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || jobs_.size() >= capacity_) {
      ++dropped_;
      return false;
    }
    jobs_.push_back(std::move(job));
  }
  ready_.notify_one();
  return true;
}

void Worker::Run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

// --- NetTransport ----------------------------------------------------------------

EpochPeers::EpochPeers(std::shared_ptr<const net::PeerSet> peers) : peers_(std::move(peers)) {
  MutexLock lock(&mu_);
  for (uint32_t i = 0; i < peers_->size(); ++i) {
    to_peer_.push_back(i);
    to_epoch_.push_back(i);
  }
}

void EpochPeers::Set(const v1::ValidatorSet& set) {
  std::vector<std::optional<uint32_t>> to_peer(set.validators_size());
  std::vector<std::optional<uint32_t>> to_epoch(peers_->size());
  for (int i = 0; i < set.validators_size(); ++i) {
    const v1::Validator& v = set.validators(i);
    std::string sha256 = v.tls_cert_sha256();
    if (sha256.empty()) {
      Result<std::string> computed = net::CertSha256(v.tls_cert_pem());
      if (!computed.ok()) continue;  // no certificate a peer could present
      sha256 = *std::move(computed);
    }
    const std::optional<uint32_t> peer = peers_->IndexOfCertSha256(sha256);
    if (!peer || peers_->peer(*peer).name != v.name() || to_epoch[*peer]) continue;
    to_peer[i] = *peer;
    to_epoch[*peer] = static_cast<uint32_t>(i);
  }
  MutexLock lock(&mu_);
  to_peer_ = std::move(to_peer);
  to_epoch_ = std::move(to_epoch);
}

std::optional<uint32_t> EpochPeers::PeerOf(uint32_t epoch_index) const {
  MutexLock lock(&mu_);
  return epoch_index < to_peer_.size() ? to_peer_[epoch_index] : std::nullopt;
}

std::optional<uint32_t> EpochPeers::EpochIndexOf(uint32_t peer) const {
  MutexLock lock(&mu_);
  return peer < to_epoch_.size() ? to_epoch_[peer] : std::nullopt;
}

void NetTransport::Send(uint32_t to, const v1::ConsensusMessage& message) {
  const std::optional<uint32_t> peer = epoch_peers_->PeerOf(to);
  if (!peer || *peer == peers_->self_index()) {
    epoch_peers_->CountUnreachable();
    return;
  }
  peers_->Send(*peer, message);
}

void NetTransport::Broadcast(const v1::ConsensusMessage& message) {
  peers_->Broadcast(message);
}

void NetTransport::FetchBlocks(uint32_t epoch_index, const crypto::Hash32& block_id,
                               uint64_t above_height) {
  const std::optional<uint32_t> mapped = epoch_peers_->PeerOf(epoch_index);
  if (!mapped || *mapped == peers_->self_index()) {
    epoch_peers_->CountUnreachable();
    return;
  }
  const uint32_t peer = *mapped;
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
  for (uint32_t i = 0; i < peers_->size(); ++i)
    queues_.push_back(std::make_unique<PeerQueue>(&mu_));
  for (uint32_t i = 0; i < peers_->size(); ++i) {
    if (i == peers_->self_index()) continue;
    for (size_t k = 0; k < limits::gossip_calls_per_peer_max; ++k) {
      senders_.emplace_back([this, i] { Run(i); });
    }
  }
}

Gossip::~Gossip() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& queue : queues_) queue->ready.SignalAll();
  for (std::thread& sender : senders_) sender.join();
}

bool Gossip::Add(const v1::Transaction& tx) {
  auto shared = std::make_shared<const v1::Transaction>(tx);
  bool queued = false;
  MutexLock lock(&mu_);
  for (uint32_t i = 0; i < queues_.size(); ++i) {
    if (i == peers_->self_index()) continue;
    PeerQueue& queue = *queues_[i];
    if (queue.pending.size() >= limits::gossip_queue_txs_per_peer_max) {
      dropped_.fetch_add(1);
      continue;
    }
    queue.pending.push_back(shared);
    queue.ready.Signal();
    queued = true;
  }
  return queued;
}

void Gossip::Run(uint32_t peer) {
  PeerQueue& queue = *queues_[peer];
  for (;;) {
    v1::GossipTxsRequest request;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue.pending.empty()) queue.ready.Wait();
      if (stopping_) return;
      const size_t take = std::min(queue.pending.size(), limits::net_gossip_txs_max);
      for (size_t k = 0; k < take; ++k) {
        *request.add_txs() = *queue.pending.front();
        queue.pending.pop_front();
      }
    }
    (void)peers_->GossipTxs(peer, request);  // a peer that misses it gets it in a block
  }
}

// --- Block sync --------------------------------------------------------------------

std::vector<uint32_t> PeerSyncSource::Candidates() const {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < peers_->size(); ++i) {
    if (i != peers_->self_index()) out.push_back(i);
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
                                 storage::KvStore* store, std::string chain_id, size_t validators,
                                 InboundBounds bounds, EpochPeers* epoch_peers)
    : replica_(replica),
      admission_(admission),
      store_(store),
      chain_id_(std::move(chain_id)),
      epoch_peers_(epoch_peers),
      inbound_(std::make_shared<Inbound>(validators, bounds)) {}

bool NodePeerHandler::OnConsensusMessage(uint32_t from_index, v1::ConsensusMessage message) {
  // The replica hears the sender under its index in the current epoch; a peer that is
  // no validator of it (removed) is not heard at all, and holds no budget for it.
  uint32_t sender = from_index;
  if (epoch_peers_ != nullptr) {
    const std::optional<uint32_t> index = epoch_peers_->EpochIndexOf(from_index);
    if (!index) {
      epoch_peers_->CountUnreachable();
      return true;
    }
    sender = *index;
    message.set_sender_index(sender);
  }
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

void NodePeerHandler::OnGossipTxs(uint32_t from_index, const v1::GossipTxsRequest& request,
                                  v1::GossipTxsResponse* response) {
  std::vector<v1::Transaction> txs(request.txs().begin(), request.txs().end());
  std::unique_ptr<storage::Snapshot> snapshot = store_->GetSnapshot();
  Result<uint64_t> height = replica::CommittedHeight(*snapshot);
  const uint64_t next = height.ok() ? *height + 1 : 1;
  for (const Result<crypto::Hash32>& answer : admission_->Admit(txs, *snapshot, next)) {
    if (answer.ok() || answer.status().code() == Code::kAlreadyExists) {
      response->add_codes(v1::OK);
    } else {
      response->add_codes(ledger::ErrorCodeOf(answer.status()));
    }
  }
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
