// reel-bench's client side of a running network: one gRPC channel per node, the
// chain id, and how transactions are built, signed and submitted.
//
// Failure: RPC errors and refusals come back as a Status naming the node; nothing
// here retries.
// Thread safety: after Connect, every method may be called from many threads.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/keys.h"
#include "reel/v1/api.grpc.pb.h"

namespace reel::bench {

namespace v1 = ::reel::v1;

class Network {
 public:
  explicit Network(std::vector<std::string> nodes);
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Asks the first node for the chain id.
  Status Connect();

  size_t node_count() const { return nodes_.size(); }
  const std::string& chain_id() const { return chain_id_; }

  // A body for `signer` with the chain id and a nonce no other body of this run has.
  v1::TxBody Body(const std::string& signer);
  v1::Transaction Sign(const v1::TxBody& body, const crypto::KeyPair& key) const;
  // The transaction id's 32 bytes, as the blocks' transactions are matched by.
  std::string IdOf(const v1::Transaction& tx) const;

  // Submits without waiting for the commit. A refusal by the rules is OK here with
  // status REJECTED in the response; an RPC failure is an IoError.
  Result<v1::SubmitTransactionResponse> Submit(size_t node, const v1::Transaction& tx) const;
  // Likewise for several in one SubmitTransactions call: one answer each, in order.
  Result<v1::SubmitTransactionsResponse> SubmitBatch(size_t node,
                                                     const std::vector<v1::Transaction>& txs) const;

  // Whether `node` holds the transaction, pending or committed (GetTransaction): after
  // a failed call, which of its transactions it admitted. NOT_FOUND is false.
  Result<bool> Holds(size_t node, const std::string& id) const;

  // Submits every transaction to the first node, then waits until each is committed
  // with result OK (FailedPrecondition otherwise), there and then on every other node.
  // For the setup: the height of the last block that holds one of them.
  Result<uint64_t> CommitAll(const std::vector<v1::Transaction>& txs) const;

  // The committed blocks from `from_height` on, with their results, from the first node.
  std::unique_ptr<grpc::ClientReader<v1::StreamBlocksResponse>> StreamBlocks(
      grpc::ClientContext* context, uint64_t from_height) const;

 private:
  // One GetTransaction call to `node`, with the call deadline.
  grpc::Status GetTx(size_t node, const std::string& id,
                     v1::GetTransactionResponse* response) const;
  Result<v1::GetTransactionResponse> AwaitCommitted(size_t node, const std::string& id) const;

  std::vector<std::string> nodes_;
  std::vector<std::unique_ptr<v1::Api::Stub>> stubs_;
  std::string chain_id_;
  std::atomic<uint64_t> nonce_{1};
  uint64_t nonce_base_ = 0;  // random high bits: a rerun never repeats an old body
};

}  // namespace reel::bench
