// PeerServer: the reel.v1.Peer gRPC service of a validator, over mutual TLS.
//
// Every call is authenticated before anything is read from it: the client's certificate
// (already verified against the chain's CA by TLS) must be one that the current epoch
// names for a validator (Membership), else the call fails with UNAUTHENTICATED. On a Push
// stream every message must carry that validator's index as sender_index, else the
// stream fails with PERMISSION_DENIED; no message of a refused call reaches the handler.
// A GossipTxsStream hands each batch to the handler as a GossipTxs call does, and
// answers only a summary when it ends.
// When the epoch changes, an open Push or gossip stream is authenticated again at its next
// message: a validator the new epoch removed is refused (UNAUTHENTICATED), one whose
// index moved must send with its new index. (A sender one epoch behind or ahead of this
// node, while indexes moved, has its stream refused and opens another: a moment's loss
// at an epoch change, which consensus tolerates.) The handlers are
// thin: bound and check sizes, then hand the message to the PeerHandler with the
// caller's validator index.
//
// Bounds (base/limits.h): receive size (RESOURCE_EXHAUSTED beyond it; the server goes on
// serving), server threads, HTTP/2 streams per connection, Push and gossip streams and
// calls in flight per peer, TLS handshake time, blocks per GetBlocks, transactions per GossipTxs.
//
// Threading: gRPC calls the PeerHandler from its own threads, several at once (one per
// open Push or gossip stream and per call in flight); the handler must be thread-safe
// and should return quickly (post work to the node's thread). Messages of one stream
// arrive in the order sent; across streams (two peers, or a peer's old and new stream) there
// is no order. PeerServer's own methods are thread-safe.
#pragma once

#include <grpcpp/server.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "node/net/peer_set.h"
#include "node/net/tls.h"
#include "reel/v1/peer.pb.h"

namespace reel::net {

// What the node does with what peers send; implemented by the node, and by a fake in
// tests. `from_index` is the caller's validator index, proven by its TLS certificate.
class PeerHandler {
 public:
  virtual ~PeerHandler() = default;

  // A consensus message whose sender_index is from_index. Returns false when the node
  // could not hold it (counted as dropped in the stream's PushSummary). The signature
  // inside is not checked here: that is the node's job.
  virtual bool OnConsensusMessage(uint32_t from_index, reel::v1::ConsensusMessage message) = 0;

  // Fills one code per transaction of the request, in order; or fails the whole call
  // when what stops a transaction is the node's state, not the transaction (a full
  // mempool, a store that cannot be read): a GossipTxs caller gets that status, and on
  // a gossip stream the rest of that batch is counted as refused.
  virtual Status OnGossipTxs(uint32_t from_index, const reel::v1::GossipTxsRequest& request,
                             reel::v1::GossipTxsResponse* response) = 0;

  // GetBlocks and GetSyncInfo are read-only and open to observers too: a caller whose
  // certificate the chain's CA signed but the current epoch does not name comes with
  // from_index == kObserverIndex.
  // `request` is already checked: 1 <= from_height <= to_height, and the range is at most
  // net_sync_blocks_per_request_max blocks. The response must fit in
  // net_message_bytes_max; answer fewer blocks rather than more.
  virtual Status GetBlocks(uint32_t from_index, const reel::v1::GetBlocksRequest& request,
                           reel::v1::GetBlocksResponse* response) = 0;
  // `request.block_id` is 32 bytes. An unknown block is an empty response, not an error.
  virtual Status GetBlock(uint32_t from_index, const reel::v1::GetBlockByIdRequest& request,
                          reel::v1::GetBlockByIdResponse* response) = 0;
  virtual Status GetSyncInfo(uint32_t from_index, reel::v1::SyncInfo* response) = 0;
};

// Counters for metrics and tests; monotonic.
struct PeerServerStats {
  uint64_t refused_unauthenticated = 0;  // certificate no validator's of the current epoch
  uint64_t refused_impersonation = 0;    // sender_index of another validator
  uint64_t refused_busy = 0;             // per-peer stream or call bound reached
  uint64_t refused_invalid = 0;          // bad request fields
  uint64_t push_received = 0;            // consensus messages handed to the handler
  uint64_t push_dropped = 0;             // of those, the handler could not hold
  uint64_t gossip_batches = 0;           // GossipTxsStream messages handed to the handler
};

// What the server refused one peer at its bounds; monotonic.
struct PeerRefusals {
  uint64_t push_streams = 0;    // Push streams beyond net_push_streams_per_peer_max
  uint64_t gossip_streams = 0;  // gossip streams beyond net_gossip_streams_per_peer_max
  uint64_t calls = 0;           // calls beyond net_calls_per_peer_max
};

class PeerServer {
 public:
  // Listens on `listen_address` ("host:port"; port 0 picks a free one). `own` is this
  // validator's certificate and key (InvalidArgument if they do not match); while the
  // epoch names it, calls from this validator itself are refused too. `handler` must
  // outlive the server. The node replaces `membership`'s set at each epoch.
  static Result<std::unique_ptr<PeerServer>> Start(std::shared_ptr<Membership> membership,
                                                   const CertAndKey& own,
                                                   const std::string& listen_address,
                                                   PeerHandler* handler);
  // With one set for good (tests).
  static Result<std::unique_ptr<PeerServer>> Start(std::shared_ptr<const PeerSet> peers,
                                                   const CertAndKey& own,
                                                   const std::string& listen_address,
                                                   PeerHandler* handler);
  ~PeerServer();  // Shutdown()
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;

  int port() const { return port_; }
  // Stops listening, cancels open streams and calls, and returns once no handler runs.
  // Idempotent.
  void Shutdown();
  PeerServerStats stats() const;
  // For the validator `peer` (< limits::validators_max), or all observers
  // (kObserverIndex).
  PeerRefusals refusals(uint32_t peer) const;

  class Service;  // the gRPC service, in peer_server.cc

 private:
  PeerServer() = default;

  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<bool> shut_down_{false};
};

}  // namespace reel::net
