// Peer glue: what connects the peer transport (node/net) with the replica, the
// mempool and the store. Each class does one thing:
//   - NetTransport carries the replica's messages and block fetches over Peers.
//   - Gossip sends admitted transactions to the other validators in batches.
//   - PeerSyncSource lets block sync (node/replica/block_sync.h) ask the peers, and
//     ApplyOnReplica hands a synced range to the replica's loop.
//   - NodePeerHandler answers what peers ask: their consensus messages go to the
//     replica's loop, their gossiped transactions through admission, their sync
//     requests are read from committed blocks or the replica's tree.
//
// Threads: NetTransport and Gossip each own one worker thread with a bounded
// queue (a full queue drops the newest work and counts it: the protocol tolerates
// a lost fetch or gossip, and a stuck peer must not make the node grow). The
// handler runs on gRPC threads and only posts to the loop or reads snapshots.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "node/mempool/admission.h"
#include "node/net/peer_server.h"
#include "node/net/peers.h"
#include "node/replica/replica.h"

namespace reel::daemon {

// A worker thread that runs queued jobs in order; Post refuses beyond `capacity`.
class Worker {
 public:
  explicit Worker(size_t capacity);
  ~Worker();  // drops what is queued, finishes the running job, joins
  bool Post(std::function<void()> job);
  uint64_t dropped() const { return dropped_.load(); }

 private:
  void Run();
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;
};

class NetTransport : public replica::Transport {
 public:
  explicit NetTransport(net::Peers* peers) : peers_(peers), fetches_(64) {}
  // Where fetched blocks go; set once the replica exists, before it starts.
  void set_replica(replica::Replica* replica) { replica_ = replica; }

  void Send(uint32_t to, const v1::ConsensusMessage& message) override;
  void Broadcast(const v1::ConsensusMessage& message) override;
  void FetchBlocks(uint32_t peer, const crypto::Hash32& block_id, uint64_t above_height) override;

 private:
  net::Peers* peers_;
  replica::Replica* replica_ = nullptr;
  Worker fetches_;
};

class Gossip {
 public:
  explicit Gossip(net::Peers* peers);
  ~Gossip();
  // Queues an admitted transaction for the other validators; false when full.
  bool Add(const v1::Transaction& tx);

 private:
  void Run();
  net::Peers* peers_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::vector<v1::Transaction> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

class PeerSyncSource : public replica::SyncPeers {
 public:
  explicit PeerSyncSource(net::Peers* peers) : peers_(peers) {}
  std::vector<uint32_t> Candidates() const override;
  Result<v1::SyncInfo> GetSyncInfo(uint32_t peer) override { return peers_->GetSyncInfo(peer); }
  Result<v1::GetBlocksResponse> GetBlocks(uint32_t peer,
                                          const v1::GetBlocksRequest& request) override {
    return peers_->GetBlocks(peer, request);
  }

 private:
  net::Peers* peers_;
};

// Runs `range` on the replica's loop and waits for it, up to limits::sync_apply_wait_ms,
// giving up early once `stopping` is set (the loop may never run it then).
Status ApplyOnReplica(replica::Replica* replica, replica::SyncedRange range,
                      const std::atomic<bool>& stopping);

class NodePeerHandler : public net::PeerHandler {
 public:
  NodePeerHandler(replica::Replica* replica, mempool::Admission* admission,
                  storage::KvStore* store, std::string chain_id, uint64_t epoch)
      : replica_(replica), admission_(admission), store_(store), chain_id_(std::move(chain_id)),
        epoch_(epoch) {}

  bool OnConsensusMessage(uint32_t from_index, v1::ConsensusMessage message) override;
  void OnGossipTxs(uint32_t from_index, const v1::GossipTxsRequest& request,
                   v1::GossipTxsResponse* response) override;
  Status GetBlocks(uint32_t from_index, const v1::GetBlocksRequest& request,
                   v1::GetBlocksResponse* response) override;
  Status GetBlock(uint32_t from_index, const v1::GetBlockByIdRequest& request,
                  v1::GetBlockByIdResponse* response) override;
  Status GetSyncInfo(uint32_t from_index, v1::SyncInfo* response) override;

 private:
  replica::Replica* replica_;
  mempool::Admission* admission_;
  storage::KvStore* store_;
  std::string chain_id_;
  uint64_t epoch_;
};

}  // namespace reel::daemon
