// Peers: this validator's clients to every other validator of the epoch, one PeerClient
// (one mutual-TLS channel, one outbound queue, one sender thread) per peer.
//
// The consensus core's outbox calls Send and Broadcast; they stamp sender_index with
// this validator's index (the TLS identity the receiver will check it against) and
// return at once. Sync and gossip calls block the calling thread up to the call
// deadline. Thread-safe: any thread may call any method at once.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "node/net/peer_client.h"
#include "node/net/peer_set.h"

namespace reel::net {

class Peers {
 public:
  // Clients to every validator but `self_index`. FailedPrecondition unless `own` is the
  // certificate genesis names for `self_index` (every peer would refuse us otherwise);
  // InvalidArgument if its key does not match.
  static Result<std::unique_ptr<Peers>> Create(std::shared_ptr<const PeerSet> peers,
                                               uint32_t self_index, const CertAndKey& own,
                                               PeerClientOptions options = {});
  // Clients to every validator for an observer: a node with a certificate signed by the
  // chain's CA but no validator's. It may only sync (GetBlocks, GetSyncInfo); the
  // validators refuse it anything else. FailedPrecondition if `own` is a validator's.
  static Result<std::unique_ptr<Peers>> CreateObserver(std::shared_ptr<const PeerSet> peers,
                                                       const CertAndKey& own,
                                                       PeerClientOptions options = {});
  ~Peers();  // stops every sender; queued messages are dropped
  Peers(const Peers&) = delete;
  Peers& operator=(const Peers&) = delete;

  // This validator's index; size() for an observer, so that "every index but mine"
  // loops need no special case.
  uint32_t self_index() const { return self_index_; }
  bool observer() const { return self_index_ == peers_->size(); }
  size_t size() const { return peers_->size(); }

  // `to_index` < size() and not self_index(). Not for observers.
  void Send(uint32_t to_index, reel::v1::ConsensusMessage message);
  // To every validator but this one; the peers share one copy of the message.
  void Broadcast(reel::v1::ConsensusMessage message);

  Result<reel::v1::GossipTxsResponse> GossipTxs(uint32_t to_index,
                                                const reel::v1::GossipTxsRequest& request);
  Result<reel::v1::GetBlocksResponse> GetBlocks(uint32_t from_index,
                                                const reel::v1::GetBlocksRequest& request);
  Result<reel::v1::GetBlockByIdResponse> GetBlock(uint32_t from_index,
                                                  const reel::v1::GetBlockByIdRequest& request);
  Result<reel::v1::SyncInfo> GetSyncInfo(uint32_t from_index);

  // One peer's counters (index != self_index()).
  PeerClientStats stats(uint32_t index) const;
  // Why the stream to `index` last failed, for logs.
  std::string last_stream_error(uint32_t index) const;

 private:
  Peers(std::shared_ptr<const PeerSet> peers, uint32_t self_index, const CertAndKey& own,
        PeerClientOptions options);
  PeerClient& client(uint32_t index) const;

  const std::shared_ptr<const PeerSet> peers_;
  const uint32_t self_index_;
  std::vector<std::unique_ptr<PeerClient>> clients_;  // by index; null at self_index_
};

}  // namespace reel::net
