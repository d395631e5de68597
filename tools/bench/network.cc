#include "tools/bench/network.h"

#include <sodium.h>

#include <chrono>
#include <thread>

#include "crypto/signing.h"

namespace reel::bench {
namespace {

// How long the setup waits for one of its transactions to commit, and how often it asks.
constexpr auto kSetupCommitTimeout = std::chrono::seconds(30);
constexpr auto kSetupPollInterval = std::chrono::milliseconds(50);
constexpr auto kRpcDeadline = std::chrono::seconds(30);

void SetDeadline(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
}

}  // namespace

Network::Network(std::vector<std::string> nodes) : nodes_(std::move(nodes)) {
  REEL_ASSERT(!nodes_.empty());
  for (const std::string& node : nodes_) {
    stubs_.push_back(
        v1::Api::NewStub(grpc::CreateChannel(node, grpc::InsecureChannelCredentials())));
  }
  nonce_base_ = uint64_t{randombytes_random()} << 32;
}

Status Network::Connect() {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::GetStatusResponse status;
  grpc::Status s = stubs_[0]->GetStatus(&context, {}, &status);
  if (!s.ok()) return Status::IoError("node " + nodes_[0] + ": " + s.error_message());
  chain_id_ = status.chain_id();
  return Status::Ok();
}

v1::TxBody Network::Body(const std::string& signer) {
  v1::TxBody body;
  body.set_chain_id(chain_id_);
  body.set_org_id(signer);
  body.set_nonce(nonce_base_ + nonce_.fetch_add(1));
  return body;
}

v1::Transaction Network::Sign(const v1::TxBody& body, const crypto::KeyPair& key) const {
  v1::Transaction tx;
  tx.set_body(body.SerializeAsString());
  const crypto::Hash32 id = crypto::TransactionId(chain_id_, tx.body());
  v1::Signature* s = tx.add_signatures();
  s->set_public_key(std::string(crypto::AsBytes(key.public_key())));
  s->set_signature(std::string(crypto::AsBytes(key.SignDigest(id))));
  return tx;
}

std::string Network::IdOf(const v1::Transaction& tx) const {
  return std::string(crypto::AsBytes(crypto::TransactionId(chain_id_, tx.body())));
}

Result<v1::SubmitTransactionResponse> Network::Submit(size_t node,
                                                      const v1::Transaction& tx) const {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::SubmitTransactionRequest request;
  *request.mutable_transaction() = tx;
  v1::SubmitTransactionResponse response;
  grpc::Status s = stubs_[node]->SubmitTransaction(&context, request, &response);
  if (!s.ok()) return Status::IoError(nodes_[node] + ": " + s.error_message());
  return response;
}

Result<v1::SubmitTransactionsResponse> Network::SubmitBatch(
    size_t node, const std::vector<v1::Transaction>& txs) const {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::SubmitTransactionsRequest request;
  for (const v1::Transaction& tx : txs) *request.add_transactions() = tx;
  v1::SubmitTransactionsResponse response;
  grpc::Status s = stubs_[node]->SubmitTransactions(&context, request, &response);
  if (!s.ok()) return Status::IoError(nodes_[node] + ": " + s.error_message());
  if (static_cast<size_t>(response.results_size()) != txs.size()) {
    return Status::IoError(nodes_[node] + ": " + std::to_string(response.results_size()) +
                           " answers to " + std::to_string(txs.size()) + " transactions");
  }
  return response;
}

grpc::Status Network::GetTx(size_t node, const std::string& id,
                            v1::GetTransactionResponse* response) const {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::GetTransactionRequest request;
  request.set_tx_id(id);
  return stubs_[node]->GetTransaction(&context, request, response);
}

Result<bool> Network::Holds(size_t node, const std::string& id) const {
  v1::GetTransactionResponse response;
  grpc::Status s = GetTx(node, id, &response);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) return false;
  if (!s.ok()) return Status::IoError(nodes_[node] + ": " + s.error_message());
  return true;
}

Result<v1::GetTransactionResponse> Network::AwaitCommitted(size_t node,
                                                           const std::string& id) const {
  const auto give_up = std::chrono::steady_clock::now() + kSetupCommitTimeout;
  for (;;) {
    v1::GetTransactionResponse response;
    grpc::Status s = GetTx(node, id, &response);
    // NOT_FOUND may be the moment between leaving the mempool and the commit showing.
    if (!s.ok() && s.error_code() != grpc::StatusCode::NOT_FOUND) {
      return Status::IoError(nodes_[node] + ": " + s.error_message());
    }
    if (s.ok() && response.status() == v1::TX_STATUS_COMMITTED) return response;
    if (std::chrono::steady_clock::now() > give_up) {
      return Status::FailedPrecondition("a setup transaction did not commit within 30 s");
    }
    std::this_thread::sleep_for(kSetupPollInterval);
  }
}

Result<uint64_t> Network::CommitAll(const std::vector<v1::Transaction>& txs) const {
  for (const v1::Transaction& tx : txs) {
    Result<v1::SubmitTransactionResponse> submitted = Submit(0, tx);
    if (!submitted.ok()) return submitted.status();
    if (submitted->status() == v1::TX_STATUS_REJECTED) {
      return Status::FailedPrecondition("setup transaction refused: " +
                                        submitted->result().message());
    }
  }
  uint64_t height = 0;
  for (const v1::Transaction& tx : txs) {
    Result<v1::GetTransactionResponse> committed = AwaitCommitted(0, IdOf(tx));
    if (!committed.ok()) return committed.status();
    if (committed->result().code() != v1::OK) {
      return Status::FailedPrecondition(
          "setup transaction failed: " + v1::ErrorCode_Name(committed->result().code()) + ": " +
          committed->result().message());
    }
    height = std::max(height, committed->height());
  }
  // The clients go to every node: each must have committed the setup, or one a block
  // behind refuses the first transactions of a lane (SIGNER_NOT_FOUND).
  for (size_t node = 1; node < stubs_.size(); ++node) {
    for (const v1::Transaction& tx : txs) {
      Result<v1::GetTransactionResponse> there = AwaitCommitted(node, IdOf(tx));
      if (!there.ok()) return there.status();
    }
  }
  return height;
}

std::unique_ptr<grpc::ClientReader<v1::StreamBlocksResponse>> Network::StreamBlocks(
    grpc::ClientContext* context, uint64_t from_height) const {
  v1::StreamBlocksRequest request;
  request.set_from_height(from_height);
  request.set_include_results(true);
  return stubs_[0]->StreamBlocks(context, request);
}

}  // namespace reel::bench
