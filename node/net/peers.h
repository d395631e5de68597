// Peers: this node's clients to the other validators of the current epoch, one
// PeerClient (one mutual-TLS channel, one outbound queue, one sender thread) per peer.
//
// The node replaces the set at each epoch (SetPeerSet): a client is kept for a peer that
// stays (same name, address and certificate, whatever its new index), made for one that
// joins, and dropped, with what it had queued, for one that leaves. This node's own index
// is the one its TLS certificate has in the set; a node that the set does not name (a
// validator not yet added, or removed) sends nothing and may only sync.
//
// Indexes are the current epoch's. The consensus core's outbox calls Send and Broadcast;
// they stamp sender_index with this node's index (the TLS identity the receiver checks it
// against) and return at once. Sync and gossip calls block the calling thread up to the
// call deadline; one to an index the set no longer has fails with FailedPrecondition. A
// gossip stream (NewTxStream) has no deadline: its user cancels it. Thread-safe: any thread may
// call any method at once; each call works on the set of the moment.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "base/mutex.h"
#include "node/net/peer_client.h"
#include "node/net/peer_set.h"

namespace reel::net {

class Peers {
 public:
  // Clients to every validator but the one `own` is. For a node with a validator key;
  // the set may not name it (yet). InvalidArgument if the certificate and key do not match.
  static Result<std::unique_ptr<Peers>> CreateValidator(std::shared_ptr<const PeerSet> peers,
                                                        const CertAndKey& own,
                                                        PeerClientOptions options = {});
  // The same, checking that `own` is the certificate the set names for `self_index`
  // (FailedPrecondition otherwise).
  static Result<std::unique_ptr<Peers>> Create(std::shared_ptr<const PeerSet> peers,
                                               uint32_t self_index, const CertAndKey& own,
                                               PeerClientOptions options = {});
  // Clients to every validator for an observer: a node with a certificate signed by the
  // chain's CA and no validator key. It never sends (whatever a later set names) and may
  // only sync (GetBlocks, GetSyncInfo). FailedPrecondition if `own` is a validator's.
  static Result<std::unique_ptr<Peers>> CreateObserver(std::shared_ptr<const PeerSet> peers,
                                                       const CertAndKey& own,
                                                       PeerClientOptions options = {});
  ~Peers();  // stops every sender; queued messages are dropped
  Peers(const Peers&) = delete;
  Peers& operator=(const Peers&) = delete;

  // The next epoch's set (see above). Clients dropped are stopped on this thread.
  void SetPeerSet(std::shared_ptr<const PeerSet> peers);

  // This node's index in the current set; size() when the set does not name it (an
  // observer, or a validator not in this epoch), so that "every index but mine" loops
  // need no special case.
  uint32_t self_index() const;
  bool observer() const;  // not a validator of the current set
  size_t size() const;
  std::shared_ptr<const PeerSet> peer_set() const;

  // `to_index` < size() and not self_index(); otherwise dropped. Not for observers.
  void Send(uint32_t to_index, reel::v1::ConsensusMessage message);
  // To every validator but this one; the peers share one copy of the message.
  void Broadcast(reel::v1::ConsensusMessage message);

  // A gossip stream to the validator at `to_index` in the current set, not opened yet
  // (PeerClient::NewTxStream); it stays that validator's when the set changes.
  Result<std::unique_ptr<TxStream>> NewTxStream(uint32_t to_index) const;
  Result<reel::v1::GossipTxsResponse> GossipTxs(uint32_t to_index,
                                                const reel::v1::GossipTxsRequest& request);
  Result<reel::v1::GetBlocksResponse> GetBlocks(uint32_t from_index,
                                                const reel::v1::GetBlocksRequest& request);
  Result<reel::v1::GetBlockByIdResponse> GetBlock(uint32_t from_index,
                                                  const reel::v1::GetBlockByIdRequest& request);
  Result<reel::v1::SyncInfo> GetSyncInfo(uint32_t from_index);

  // One peer's counters (index != self_index(); zero for an index the set lacks).
  PeerClientStats stats(uint32_t index) const;
  // Why the stream to `index` last failed, for logs.
  std::string last_stream_error(uint32_t index) const;

 private:
  // One epoch's view: the set, this node's place in it, and a client per other peer.
  struct View {
    std::shared_ptr<const PeerSet> set;
    uint32_t self_index = 0;                           // set->size() when not named
    std::vector<std::shared_ptr<PeerClient>> clients;  // by index; null for self, unreachable
  };
  Peers(const CertAndKey& own, bool observer, PeerClientOptions options);
  // A view of `set` that reuses `previous`'s clients where the peer is the same.
  std::shared_ptr<const View> MakeView(std::shared_ptr<const PeerSet> set,
                                       const View* previous) const;
  std::shared_ptr<const View> view() const;
  // The client for `index`, or null (self, unreachable, or out of the set).
  std::shared_ptr<PeerClient> client(uint32_t index) const;

  const CertAndKey own_;
  const bool observer_;
  const PeerClientOptions options_;
  mutable Mutex mu_;
  std::shared_ptr<const View> view_ REEL_GUARDED_BY(mu_);
};

}  // namespace reel::net
