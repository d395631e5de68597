#include "node/daemon/peer_glue.h"

#include <chrono>
#include <future>

#include "base/limits.h"
#include "node/ledger/ledger.h"
#include "node/replica/chain_store.h"
#include "node/storage/keys.h"

namespace reel::daemon {

namespace {

// How long a gRPC thread waits for the loop to answer a peer's block request.
constexpr auto kServeFetchWait = std::chrono::seconds(5);
// Transactions per gossip call, and how long a batch may wait to fill.
constexpr size_t kGossipBatchTxs = 500;
constexpr auto kGossipInterval = std::chrono::milliseconds(20);
// Admitted transactions waiting to be gossiped.
constexpr size_t kGossipQueueTxs = 20000;

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

void NetTransport::Send(uint32_t to, const v1::ConsensusMessage& message) {
  peers_->Send(to, message);
}

void NetTransport::Broadcast(const v1::ConsensusMessage& message) { peers_->Broadcast(message); }

void NetTransport::FetchBlocks(uint32_t peer, const crypto::Hash32& block_id,
                               uint64_t above_height) {
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

Gossip::Gossip(net::Peers* peers) : peers_(peers), thread_([this] { Run(); }) {}

Gossip::~Gossip() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  ready_.notify_all();
  thread_.join();
}

bool Gossip::Add(const v1::Transaction& tx) {
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_.size() >= kGossipQueueTxs) return false;
  pending_.push_back(tx);
  return true;
}

void Gossip::Run() {
  for (;;) {
    std::vector<v1::Transaction> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      ready_.wait_for(lock, kGossipInterval, [this] { return stopping_; });
      if (stopping_) return;
      const size_t take = std::min(pending_.size(), kGossipBatchTxs);
      batch.assign(std::make_move_iterator(pending_.begin()),
                   std::make_move_iterator(pending_.begin() + static_cast<std::ptrdiff_t>(take)));
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(take));
    }
    if (batch.empty()) continue;
    v1::GossipTxsRequest request;
    for (auto& tx : batch) *request.add_txs() = std::move(tx);
    for (uint32_t i = 0; i < peers_->size(); ++i) {
      if (i == peers_->self_index()) continue;
      (void)peers_->GossipTxs(i, request);  // a peer that misses it gets it in a block
    }
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
  replica->PostSyncedRange(std::move(range), [outcome](Status s) { outcome->set_value(std::move(s)); });
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

bool NodePeerHandler::OnConsensusMessage(uint32_t from_index, v1::ConsensusMessage message) {
  replica_->PostMessage(from_index, std::move(message));
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

Status NodePeerHandler::GetBlocks(uint32_t from_index, const v1::GetBlocksRequest& request,
                                  v1::GetBlocksResponse* response) {
  Result<v1::GetBlocksResponse> range = replica::ReadRange(
      *store_->GetSnapshot(), chain_id_, request.from_height(), request.to_height());
  if (!range.ok()) return range.status();
  *response = std::move(range).value();
  return Status::Ok();
}

Status NodePeerHandler::GetBlock(uint32_t from_index, const v1::GetBlockByIdRequest& request,
                                 v1::GetBlockByIdResponse* response) {
  crypto::Hash32 id;
  std::copy(request.block_id().begin(), request.block_id().end(), id.begin());
  auto answer = std::make_shared<std::promise<std::vector<v1::Block>>>();
  std::future<std::vector<v1::Block>> ready = answer->get_future();
  replica_->PostServeFetch(id, request.above_height(),
                           [answer](std::vector<v1::Block> blocks) {
                             answer->set_value(std::move(blocks));
                           });
  if (ready.wait_for(kServeFetchWait) != std::future_status::ready) {
    return Status::ResourceExhausted("node busy: block request not answered in time");
  }
  std::vector<v1::Block> blocks = ready.get();
  size_t bytes = 0;
  for (v1::Block& block : blocks) {
    bytes += block.ByteSizeLong();
    if (bytes > limits::block_bytes_max && response->chain_size() > 0) break;
    *response->add_chain() = std::move(block);
  }
  return Status::Ok();
}

Status NodePeerHandler::GetSyncInfo(uint32_t from_index, v1::SyncInfo* response) {
  std::unique_ptr<storage::Snapshot> snapshot = store_->GetSnapshot();
  Result<uint64_t> height = replica::CommittedHeight(*snapshot);
  if (!height.ok()) return height.status();
  response->set_epoch(epoch_);
  response->set_committed_height(*height);
  return Status::Ok();
}

}  // namespace reel::daemon
