// NodeView: all that the client API needs from a running node, as one narrow interface.
// The daemon implements it over its store, mempool admission and consensus; tests
// implement it over a real store and a real mempool. The API never sees consensus,
// peers or the event loop.
//
// What an implementation promises
//   - CommittedSnapshot is a snapshot of the store at a committed height: it holds the
//     blocks (0x02, 0x03), transaction records (0x04), state and indexes of exactly
//     heights 0..commit_height (node/storage/KEYS.md), never part of a block.
//   - Submit runs mempool admission (signatures, ledger::Check against committed state,
//     the pool's bounds) and answers one Result per transaction, in order: the id, or
//     the Status that refused it. A rule refusal is kInvalidArgument carrying its ErrorCode
//     (ledger::ErrorCodeOf), its message starting with the code's name; a transaction already in
//     the pool is kAlreadyExists; a full pool or queue is kResourceExhausted.
//   - WaitForCommitAbove returns as soon as the committed height exceeds `height`, or at
//     `deadline`, with the committed height at that moment (which may still be <=
//     `height`). It holds no buffer per waiter: streams read what committed from storage
//     by height, so a slow client costs the node nothing but its own thread.
//
// Thread safety: every method may be called from any gRPC thread, concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/hash.h"
#include "node/storage/kv.h"
#include "reel/v1/genesis.pb.h"
#include "reel/v1/tx.pb.h"

namespace reel::api {

namespace v1 = ::reel::v1;

using Deadline = std::chrono::steady_clock::time_point;

// What GetStatus reports beyond what the committed snapshot holds.
struct NodeInfo {
  std::string chain_id;
  // The epoch, its validators and this node's index in them are read from the committed
  // state when asked (GetStatus): the set changes at epoch boundaries.
  // This node's validator key (32 bytes), or empty for an observer. A node with a key
  // votes in the epochs whose set names it, and follows the chain in the others.
  std::string self_public_key;
  bool syncing = false;  // catching up with peers
  uint64_t round = 0;    // consensus round; 0 on an observer
  uint64_t mempool_txs = 0;
  std::string version;
};

class NodeView {
 public:
  virtual ~NodeView() = default;

  virtual NodeInfo Info() const = 0;
  virtual std::unique_ptr<storage::Snapshot> CommittedSnapshot() const = 0;
  virtual std::vector<Result<crypto::Hash32>> Submit(const std::vector<v1::Transaction>& txs) = 0;
  // True while the transaction is admitted and not yet committed.
  virtual bool IsPending(const crypto::Hash32& tx_id) const = 0;
  virtual uint64_t WaitForCommitAbove(uint64_t height, Deadline deadline) const = 0;
};

}  // namespace reel::api
