// Peer glue: what connects the peer transport (node/net) with the replica, the
// mempool and the store. Each class does one thing:
//   - NetTransport carries the replica's messages and block fetches over Peers.
//   - Gossip sends admitted transactions to the other validators in batches.
//   - PeerSyncSource lets block sync (node/replica/block_sync.h) ask the peers, and
//     ApplyOnReplica hands a synced range to the replica's loop.
//   - NodePeerHandler answers what peers ask: their consensus messages go to the
//     replica's loop, their gossiped transactions through admission, their sync
//     requests are read from committed blocks or the replica's tree. What each peer
//     has waiting on the loop is bounded (peer_budget.h): consensus messages by count
//     and bytes, block requests by count. A message beyond the bound waits for room up
//     to limits::inbound_consensus_wait_ms (its stream unread meanwhile), then is
//     dropped (the PushSummary counts it); a request beyond it is refused at once with
//     RESOURCE_EXHAUSTED. Committed blocks are read off the loop, a bounded number at
//     once per peer (GetBlock ancestry and GetBlocks ranges; observers share one
//     budget) and paced in bytes per second (PeerPace); a read beyond either waits up
//     to limits::inbound_block_read_wait_ms, then is refused with RESOURCE_EXHAUSTED.
//     All are counted per peer and kind (drops()).
//
// Threads: NetTransport owns one worker thread with a bounded queue, Gossip a sender
// per peer on a bounded queue per peer (a full queue drops the newest work and counts
// it: the protocol tolerates a lost fetch or gossip, and a stuck peer must not make the
// node grow). The
// handler runs on gRPC threads and only posts to the loop or reads snapshots.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "base/limits.h"
#include "base/mutex.h"
#include "node/daemon/peer_budget.h"
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
  Mutex mu_;
  CondVar ready_;
  std::deque<std::function<void()>> jobs_ REEL_GUARDED_BY(mu_);
  bool stopping_ REEL_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;
};

// Makes the peer transport follow an epoch's validator set: `membership` (what the peer
// server authenticates callers against) and `peers` (this node's clients; either may be
// null) become the set's, in its order, so that a peer's index is its validator index in
// the epoch (docs/DECISIONS.md, "Epochs"). A validator the transport cannot reach (a name
// that is no TLS name, a certificate another validator has) keeps its index without a
// peer, and is logged. Fails only for a set with no validators or a CA that does not
// parse, and then changes nothing.
Status FollowValidatorSet(const v1::ValidatorSet& set, const std::string& ca_pem,
                          net::Membership* membership, net::Peers* peers);

class NetTransport : public replica::Transport {
 public:
  // `on_epoch` runs on the replica's loop each time it enters an epoch (at start too),
  // with the epoch's set; the node makes its peers follow it (FollowValidatorSet).
  NetTransport(net::Peers* peers, std::function<void(const v1::ValidatorSet&)> on_epoch)
      : peers_(peers), on_epoch_(std::move(on_epoch)), fetches_(64) {}
  // Where fetched blocks go; set once the replica exists, before it starts.
  void set_replica(replica::Replica* replica) { replica_ = replica; }

  // `to` and `peer` are indexes of the current epoch, which are the peers' (Peers).
  void Send(uint32_t to, const v1::ConsensusMessage& message) override;
  void Broadcast(const v1::ConsensusMessage& message) override;
  void FetchBlocks(uint32_t peer, const crypto::Hash32& block_id, uint64_t above_height) override;
  void OnEpoch(const replica::EpochState& epoch) override;

  // Messages and fetches for an index with no peer (this node, or one the transport
  // cannot reach), dropped.
  uint64_t unreachable() const { return unreachable_.load(); }

 private:
  net::Peers* peers_;
  std::function<void(const v1::ValidatorSet&)> on_epoch_;
  replica::Replica* replica_ = nullptr;
  std::atomic<uint64_t> unreachable_{0};
  Worker fetches_;
};

// When a sender writes a batch to its peer's gossip stream, given the transactions
// waiting, when the oldest of them was queued and when its last write ended:
// time_point::max() with none waiting; at once with limits::gossip_batch_txs; with fewer,
// limits::gossip_linger_ms after the later of the oldest's arrival and the last write's
// end, to gather more. A write per handful of transactions would cost both ends more CPU
// than the transactions (four nodes share two cores here); a transaction waits at most
// the linger more, a small part of a commit's three rounds.
std::chrono::steady_clock::time_point GossipBatchDue(
    size_t waiting, std::chrono::steady_clock::time_point oldest_queued,
    std::chrono::steady_clock::time_point last_write_end);

// Sends admitted transactions to every other validator of the current epoch (none while
// this node is not one). Each peer index has its own queue and its own sender thread,
// which keeps one GossipTxsStream open to the validator at that index and writes a batch
// when GossipBatchDue says, up to limits::net_gossip_txs_max and
// limits::gossip_batch_bytes_max. So a far or dead peer delays nobody else's copy, and
// on a WAN a batch waits for no round trip (a call per batch waited for the one before,
// or needed several calls in flight per peer).
//
// The stream is reopened when the validator at its index changes (an epoch), and after
// it breaks. A stream that cannot be opened, or breaks, is retried after a backoff
// (limits::net_reconnect_backoff_ms_min doubling to _max, back to min once a write goes
// through); an open or write still blocked after limits::net_call_deadline_ms is
// cancelled. What waits while there is no stream is dropped, as is the newest beyond a
// peer's full queue (by count or bytes); both are counted (reel_gossip_dropped). Batches
// written to a stream that then breaks, or that is closed, may be lost uncounted. Every
// lost transaction still reaches that peer in a block.
class Gossip {
 public:
  explicit Gossip(net::Peers* peers);
  ~Gossip();  // cancels the streams, even writes a peer holds back, and joins the senders
  // Queues an admitted transaction for the other validators; false when no peer's
  // queue had room.
  bool Add(const v1::Transaction& tx);
  // Copies of transactions dropped (a peer's full queue, or no stream to it), over all
  // peers.
  uint64_t dropped() const { return dropped_.load(); }

 private:
  struct Pending {
    std::shared_ptr<const v1::Transaction> tx;
    size_t bytes;
    std::chrono::steady_clock::time_point queued_at;
  };
  struct PeerQueue {  // its fields guarded by Gossip::mu_
    std::deque<Pending> pending;
    size_t pending_bytes = 0;
    std::chrono::steady_clock::time_point last_write_end{};
    // The sender's stream while it has one, so that it can be cancelled (the destructor,
    // the deadline), and since when an open or write on it has been blocked ({} if none).
    net::TxStream* stream = nullptr;
    std::chrono::steady_clock::time_point blocked_since{};
    CondVar ready;  // its sender waits here
  };
  // The sender of one peer index, only its thread's: its stream, the validator that
  // stream goes to, and when it may open another.
  struct Sender {
    std::unique_ptr<net::TxStream> stream;
    net::PeerInfo peer;
    uint64_t backoff_ms = limits::net_reconnect_backoff_ms_min;
    std::chrono::steady_clock::time_point retry_at{};
  };
  void Run(uint32_t peer, PeerQueue* queue);
  // Sets when the next stream may be opened, and doubles the backoff.
  static void BackOff(Sender* sender);
  // Marks the start (true) or end of a blocking open or write on the sender's stream.
  void SetBlocked(PeerQueue* queue, bool blocked);
  // Writes `batch` on the sender's stream, opening one first if it has none (and its
  // backoff allows); false if the batch was not written.
  bool Write(uint32_t peer, PeerQueue* queue, Sender* sender, const v1::GossipTxsRequest& batch);
  void CloseStream(PeerQueue* queue, Sender* sender);
  net::Peers* peers_;
  Mutex mu_;
  // By validator index, made (with its sender) the first time an epoch has that index
  // and kept for good; ours stays empty. Each queue's contents are guarded by mu_.
  std::vector<std::unique_ptr<PeerQueue>> queues_ REEL_GUARDED_BY(mu_);
  bool stopping_ REEL_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> dropped_{0};
  std::vector<std::thread> senders_ REEL_GUARDED_BY(mu_);
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

// What each peer may have waiting on the loop (base/limits.h; tests choose smaller).
struct InboundBounds {
  PeerBudget::Bounds consensus{limits::inbound_consensus_messages_per_peer_max,
                               limits::inbound_consensus_bytes_per_peer_max};
  std::chrono::milliseconds consensus_wait{limits::inbound_consensus_wait_ms};
  size_t block_requests = limits::inbound_block_requests_per_peer_max;
  size_t block_reads = limits::inbound_block_reads_per_peer_max;
  std::chrono::milliseconds block_read_wait{limits::inbound_block_read_wait_ms};
  uint64_t block_read_bytes_per_second = limits::inbound_block_read_bytes_per_second;
  uint64_t block_read_burst_bytes = limits::inbound_block_read_burst_bytes;
};

class NodePeerHandler : public net::PeerHandler {
 public:
  // Peers come with their index in this node's epoch (below limits::validators_max), or
  // net::kObserverIndex: each index has its own budget, whoever holds it in the epoch.
  NodePeerHandler(replica::Replica* replica, mempool::Admission* admission, storage::KvStore* store,
                  std::string chain_id, InboundBounds bounds = InboundBounds());

  bool OnConsensusMessage(uint32_t from_index, v1::ConsensusMessage message) override;
  Status OnGossipTxs(uint32_t from_index, const v1::GossipTxsRequest& request,
                     v1::GossipTxsResponse* response) override;
  Status GetBlocks(uint32_t from_index, const v1::GetBlocksRequest& request,
                   v1::GetBlocksResponse* response) override;
  Status GetBlock(uint32_t from_index, const v1::GetBlockByIdRequest& request,
                  v1::GetBlockByIdResponse* response) override;
  Status GetSyncInfo(uint32_t from_index, v1::SyncInfo* response) override;

  // What was dropped or refused, per peer and kind (for /metrics).
  const PeerDrops& drops() const { return inbound_->drops; }
  // Consensus messages of `peer` that found its budget full and waited for room (whether
  // they then got it or were dropped): a peer that sends faster than the loop takes.
  uint64_t throttled(uint32_t peer) const { return inbound_->throttled[peer].load(); }
  // What each peer has waiting on the loop now (for tests).
  PeerBudget::Held consensus_held(uint32_t peer) const { return inbound_->consensus.held(peer); }
  PeerBudget::Held block_requests_held(uint32_t peer) const {
    return inbound_->block_requests.held(peer);
  }
  PeerBudget::Held block_reads_held(uint32_t peer) const {
    return inbound_->block_reads.held(peer);
  }

 private:
  // Shared with the callbacks queued on the loop, which give budget back when they run.
  struct Inbound {
    explicit Inbound(const InboundBounds& bounds)
        : consensus_wait(bounds.consensus_wait),
          block_read_wait(bounds.block_read_wait),
          consensus(net::kPeerSlots, bounds.consensus),
          block_requests(net::kPeerSlots, {bounds.block_requests, SIZE_MAX}),
          block_reads(net::kPeerSlots, {bounds.block_reads, SIZE_MAX}),
          block_pace(net::kPeerSlots, bounds.block_read_bytes_per_second,
                     bounds.block_read_burst_bytes),
          drops(net::kPeerSlots),
          throttled(new std::atomic<uint64_t>[net::kPeerSlots]()) {}
    const std::chrono::milliseconds consensus_wait;
    const std::chrono::milliseconds block_read_wait;
    PeerBudget consensus;
    PeerBudget block_requests;  // by count; every request is one item of 0 bytes
    PeerBudget block_reads;     // by count; observers all at net::kObserverIndex
    PeerPace block_pace;        // observers all at net::kObserverIndex
    PeerDrops drops;            // observers at net::kObserverIndex
    std::unique_ptr<std::atomic<uint64_t>[]> throttled;
  };
  // Holds one of `peer`'s block reads while it lives, if Take got one.
  class BlockRead;

  replica::Replica* replica_;
  mempool::Admission* admission_;
  storage::KvStore* store_;
  std::string chain_id_;
  std::shared_ptr<Inbound> inbound_;
};

}  // namespace reel::daemon
