// Admission: how a transaction gets into the mempool. The signatures of a batch
// (gossip, a client's SubmitTransactions) are checked on a pool of threads (an
// asio::thread_pool), one per core, so a node keeps up with the signature checks of
// every transaction it receives; a single transaction (SubmitTransaction) is checked on
// the caller's thread, as the API's threads are parallel already. Then the custody rules are
// checked against the committed state (ledger::Check), and the transaction is added.
//
// What it promises
//   - Each transaction gets its own answer: its id, or the Status that refused it,
//     which carries the ledger's ErrorCode (ledger::ErrorCodeOf).
//   - Bounded: at most limits::verify_queue_txs_max transactions of batches wait for a
//     thread, of which clients' batches at most limits::verify_queue_client_txs_max (so
//     that gossip always has room); a batch that would exceed either is refused whole
//     with RESOURCE_EXHAUSTED. Single submissions are bounded by the API's server threads.
//
// Thread safety: Admit may be called from many threads at once; the caller blocks
// until its own batch is done. The committed view must stay valid for the call
// (a snapshot of the last committed height).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "node/mempool/mempool.h"
#include "node/storage/kv.h"

namespace asio {
class thread_pool;
}  // namespace asio

namespace reel::mempool {

class Admission {
 public:
  // `threads` 0 = one per core. `pool` must outlive this.
  Admission(std::string chain_id, Mempool* pool, size_t threads = 0);
  ~Admission();  // finishes the checks under way, then joins the threads
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // Where a batch comes from: a client's batch may hold only its share of the queue.
  enum class Source : uint8_t { kPeer, kClient };
  // Verifies, checks and adds each transaction for a block of `next_height`.
  std::vector<Result<crypto::Hash32>> Admit(const std::vector<v1::Transaction>& txs,
                                            const storage::ReadView& committed,
                                            uint64_t next_height, Source source = Source::kPeer);

  // Transactions whose signatures it has checked since start (the verify-rate metric).
  uint64_t verified() const { return verified_.load(std::memory_order_relaxed); }

 private:
  Result<crypto::Hash32> AdmitOne(const v1::Transaction& tx, const storage::ReadView& committed,
                                  uint64_t next_height);
  // Takes room for `count` transactions in the queue; false (and nothing taken) if the
  // queue would exceed limits::verify_queue_txs_max, or clients' batches
  // limits::verify_queue_client_txs_max.
  bool Reserve(size_t count, Source source);
  void Release(Source source);

  const std::string chain_id_;
  Mempool* const pool_;
  // Transactions of batches handed to the threads and not yet answered.
  std::atomic<size_t> queued_txs_{0};
  std::atomic<size_t> queued_client_txs_{0};  // of queued_txs_
  std::atomic<uint64_t> verified_{0};
  std::unique_ptr<asio::thread_pool> threads_;
};

}  // namespace reel::mempool
