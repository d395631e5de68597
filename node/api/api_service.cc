#include "node/api/api_service.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "base/limits.h"
#include "crypto/signing.h"
#include "node/api/chain_reader.h"
#include "node/api/events.h"
#include "node/api/request_checks.h"
#include "node/api/status_map.h"
#include "node/api/trace_dot.h"
#include "node/ledger/ledger.h"
#include "node/ledger/queries.h"
#include "node/ledger/validators.h"
#include "node/storage/keys.h"

namespace reel::api {
namespace {

using Clock = std::chrono::steady_clock;

// The earlier of the call's deadline and `max_ms` from now, on the steady clock. The
// call's deadline is taken a tenth of the time left early (at most 250 ms), so that the
// PENDING answer reaches the client before its deadline ends the call as
// DEADLINE_EXCEEDED (api.proto: at the deadline the answer is PENDING, not an error).
Deadline WaitDeadline(const grpc::ServerContext& context, uint64_t max_ms) {
  const Deadline capped = Clock::now() + std::chrono::milliseconds(max_ms);
  const auto call_deadline = context.deadline();
  if (call_deadline == std::chrono::system_clock::time_point::max()) return capped;
  auto left = call_deadline - std::chrono::system_clock::now();
  left -= std::min<std::chrono::system_clock::duration>(left / 10, std::chrono::milliseconds(250));
  if (left <= std::chrono::system_clock::duration::zero()) return Clock::now();
  if (left >= std::chrono::milliseconds(max_ms)) return capped;
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(left);
}

Result<crypto::Hash32> IdField(const std::string& bytes, std::string_view name) {
  crypto::Hash32 id{};
  if (bytes.size() != id.size()) {
    return Status::InvalidArgument(std::string(name) + " must be 32 bytes, got " +
                                   std::to_string(bytes.size()));
  }
  std::copy(bytes.begin(), bytes.end(), id.begin());
  return id;
}

// An envelope too large to look at: RESOURCE_EXHAUSTED whose message starts with
// TOO_LARGE (CONTRACT.md), naming the transaction by `name`.
grpc::Status CheckTxSize(const v1::Transaction& tx, std::string_view name) {
  const size_t bytes = tx.ByteSizeLong();
  if (bytes > limits::tx_envelope_bytes_max || tx.body().size() > limits::tx_body_bytes_max) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "TOO_LARGE: " + std::string(name) + " is " + std::to_string(bytes) +
                            " bytes with a body of " + std::to_string(tx.body().size()) +
                            "; the limits are " + std::to_string(limits::tx_envelope_bytes_max) +
                            " and " + std::to_string(limits::tx_body_bytes_max));
  }
  // A body that is not a TxBody is the transaction's fault, not the request's: admission
  // refuses it as MALFORMED, an answer like every other refusal (api.proto).
  return grpc::Status::OK;
}

// What SubmitTransaction refuses before admission: requests that carry no transaction,
// or one too large to look at.
grpc::Status ValidateSubmit(const v1::SubmitTransactionRequest& request) {
  if (!request.has_transaction()) return InvalidArgument("transaction is required");
  return CheckTxSize(request.transaction(), "the transaction");
}

// Likewise for SubmitTransactions: 1 to api_submit_batch_txs_max transactions, none too
// large.
grpc::Status ValidateSubmitBatch(const v1::SubmitTransactionsRequest& request) {
  const size_t count = static_cast<size_t>(request.transactions_size());
  if (count == 0 || count > limits::api_submit_batch_txs_max) {
    return InvalidArgument("transactions has " + std::to_string(count) + "; give 1 to " +
                           std::to_string(limits::api_submit_batch_txs_max) + " per call");
  }
  for (size_t i = 0; i < count; ++i) {
    grpc::Status size = CheckTxSize(request.transactions(static_cast<int>(i)),
                                    "transactions[" + std::to_string(i) + "]");
    if (!size.ok()) return size;
  }
  return grpc::Status::OK;
}

// A validator that is catching up takes no transaction; an observer's refusal (in
// Submit) says why it takes none.
grpc::Status CheckNotSyncing(const NodeInfo& info) {
  if (info.syncing && !info.self_public_key.empty()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "the node is catching up with its peers; retry shortly or submit to "
                        "another node");
  }
  return grpc::Status::OK;
}

struct Opened {
  std::unique_ptr<storage::Snapshot> snapshot;
  Result<ChainReader> reader;
};

Opened OpenCommitted(const NodeView& node) {
  std::unique_ptr<storage::Snapshot> snapshot = node.CommittedSnapshot();
  REEL_ASSERT(snapshot != nullptr);
  Result<ChainReader> reader = ChainReader::Open(*snapshot, node.Info().chain_id);
  return Opened{std::move(snapshot), std::move(reader)};
}

// Holds one of the limited stream slots for the life of a stream.
class StreamSlot {
 public:
  explicit StreamSlot(std::atomic<size_t>& open) : open_(open) {
    acquired_ = open_.fetch_add(1) < limits::api_streams_max;
  }
  ~StreamSlot() { open_.fetch_sub(1); }
  StreamSlot(const StreamSlot&) = delete;
  StreamSlot& operator=(const StreamSlot&) = delete;
  bool acquired() const { return acquired_; }

 private:
  std::atomic<size_t>& open_;
  bool acquired_ = false;
};

// Answers a query: boundary checks, then `method` of ledger::Queries over a fresh
// committed snapshot.
template <typename Request, typename Response>
grpc::Status Query(const NodeView& node, const Request& request, Response* response,
                   Result<Response> (ledger::Queries::*method)(const Request&) const) {
  Status valid = CheckQueryRequest(request);
  if (!valid.ok()) return ToGrpcStatus(valid);
  std::unique_ptr<storage::Snapshot> snapshot = node.CommittedSnapshot();
  REEL_ASSERT(snapshot != nullptr);
  const ledger::Queries queries(*snapshot);
  Result<Response> answer = (queries.*method)(request);
  if (!answer.ok()) return ToGrpcStatus(answer.status());
  *response = std::move(answer).value();
  return grpc::Status::OK;
}

// Fills the response as COMMITTED from the transaction's record, if `reader` has it.
Result<bool> FillFromRecord(const ChainReader& reader, const crypto::Hash32& id,
                            v1::SubmitTransactionResponse* response) {
  Result<std::optional<v1::GetTransactionResponse>> record = reader.TxRecord(id);
  if (!record.ok()) return record.status();
  if (!record->has_value()) return false;
  response->set_status(v1::TX_STATUS_COMMITTED);
  *response->mutable_result() = (*record)->result();
  response->set_height((*record)->height());
  response->set_tx_index((*record)->tx_index());
  return true;
}

// Likewise from a fresh committed snapshot. Answers whether it was committed, and the
// committed height it read.
Result<std::pair<bool, uint64_t>> FillIfCommitted(const NodeView& node, const crypto::Hash32& id,
                                                  v1::SubmitTransactionResponse* response) {
  Opened committed = OpenCommitted(node);
  if (!committed.reader.ok()) return committed.reader.status();
  Result<bool> filled = FillFromRecord(*committed.reader, id, response);
  if (!filled.ok()) return filled.status();
  return std::make_pair(*filled, committed.reader->committed_height());
}

// A refusal at admission, as the client gets it: REJECTED with the code and message.
void Reject(v1::ErrorCode code, const Status& refusal, v1::SubmitTransactionResponse* answer) {
  answer->set_status(v1::TX_STATUS_REJECTED);
  answer->mutable_result()->set_code(code);
  answer->mutable_result()->set_message(refusal.message());
}

// Answers each transaction as SubmitTransaction does without waiting, into `answers`
// (one per transaction, tx_id always set): its committed record (on any node that has
// it: api.proto, idempotent), PENDING when its id waits in the mempool, else admission's
// answer. Admission takes the rest in one batch. An RPC error when admission could not
// take a transaction for a reason that is not the transaction's (an observer, the
// mempool full, a store error); the answers are then not for the client, and those
// admitted before it stay admitted.
grpc::Status AnswerSubmissions(NodeView& node, const std::string& chain_id,
                               const std::vector<const v1::Transaction*>& txs,
                               std::vector<v1::SubmitTransactionResponse>* answers) {
  answers->assign(txs.size(), v1::SubmitTransactionResponse());
  std::vector<crypto::Hash32> ids;
  ids.reserve(txs.size());
  std::vector<size_t> to_admit;
  std::vector<v1::Transaction> admit;
  {
    Opened committed = OpenCommitted(node);
    if (!committed.reader.ok()) return ToGrpcStatus(committed.reader.status());
    size_t record_bytes = 0;
    for (size_t i = 0; i < txs.size(); ++i) {
      ids.push_back(crypto::TransactionId(chain_id, txs[i]->body()));
      v1::SubmitTransactionResponse& answer = (*answers)[i];
      answer.set_tx_id(std::string(crypto::AsBytes(ids[i])));
      Result<bool> known = FillFromRecord(*committed.reader, ids[i], &answer);
      if (!known.ok()) return ToGrpcStatus(known.status());
      if (*known) {
        // Resent committed transactions are answered with their records: bounded, so that
        // a small request cannot make the node build a huge answer.
        record_bytes += answer.ByteSizeLong();
        if (record_bytes > limits::api_submit_batch_answer_bytes_max) {
          return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                              "the committed records this call would answer with exceed " +
                                  std::to_string(limits::api_submit_batch_answer_bytes_max) +
                                  " bytes; send fewer transactions per call");
        }
        continue;
      }
      // Any envelope of a body waiting in the mempool answers PENDING, even one that
      // admission would refuse: the transaction, which is what the id names, is not
      // refused.
      if (node.IsPending(ids[i])) {
        answer.set_status(v1::TX_STATUS_PENDING);
        continue;
      }
      to_admit.push_back(i);
      admit.push_back(*txs[i]);
    }
  }
  if (admit.empty()) return grpc::Status::OK;
  std::vector<Result<crypto::Hash32>> admitted = node.Submit(admit);
  REEL_ASSERT(admitted.size() == admit.size());
  grpc::Status first_error = grpc::Status::OK;
  for (size_t k = 0; k < admit.size(); ++k) {
    v1::SubmitTransactionResponse& answer = (*answers)[to_admit[k]];
    const Status& refusal = admitted[k].status();
    if (admitted[k].ok() || refusal.code() == Code::kAlreadyExists) {
      // Already in the mempool: a resent transaction has the same id and commits once.
      answer.set_status(v1::TX_STATUS_PENDING);
    } else if (ledger::ErrorCodeOf(refusal) == v1::DUPLICATE_TX) {
      // Committed between the look above and admission: the original outcome, likewise.
      Result<std::pair<bool, uint64_t>> filled = FillIfCommitted(node, ids[to_admit[k]], &answer);
      if (!filled.ok()) return ToGrpcStatus(filled.status());
      if (filled->first) continue;
      Reject(v1::DUPLICATE_TX, refusal, &answer);  // no record: cannot happen, say so plainly
    } else if (refusal.code() == Code::kInvalidArgument) {
      // A rule refusal: a value for the client, not an RPC error (api.proto).
      Reject(ledger::ErrorCodeOf(refusal), refusal, &answer);
    } else if (first_error.ok()) {
      first_error = ToGrpcStatus(refusal);
    }
  }
  // A body given twice in one call: once one envelope of it is admitted, every envelope
  // of it answers PENDING, as consecutive SubmitTransaction calls would answer.
  std::set<std::string> pending;
  for (const v1::SubmitTransactionResponse& answer : *answers) {
    if (answer.status() == v1::TX_STATUS_PENDING) pending.insert(answer.tx_id());
  }
  for (v1::SubmitTransactionResponse& answer : *answers) {
    if (answer.status() == v1::TX_STATUS_REJECTED && pending.contains(answer.tx_id())) {
      answer.clear_result();
      answer.set_status(v1::TX_STATUS_PENDING);
    }
  }
  return first_error;
}

// Waits until the transaction's record is committed (then fills the response as
// COMMITTED), the call's deadline, or limits::api_wait_for_commit_ms_max, whichever is
// first; the response stays PENDING if the record does not come.
grpc::Status AwaitCommit(const NodeView& node, const grpc::ServerContext& context,
                         const crypto::Hash32& id, v1::SubmitTransactionResponse* response) {
  const Deadline deadline = WaitDeadline(context, limits::api_wait_for_commit_ms_max);
  for (;;) {
    Result<std::pair<bool, uint64_t>> filled = FillIfCommitted(node, id, response);
    if (!filled.ok()) return ToGrpcStatus(filled.status());
    if (filled->first) return grpc::Status::OK;
    if (Clock::now() >= deadline || context.IsCancelled()) return grpc::Status::OK;
    const Deadline slice =
        Clock::now() + std::chrono::milliseconds(limits::api_stream_wait_slice_ms);
    node.WaitForCommitAbove(filled->second, std::min(deadline, slice));
  }
}

}  // namespace

ApiService::ApiService(NodeView* node) : node_(node) {
  REEL_ASSERT(node_ != nullptr);
}

// --- Transactions and blocks ---------------------------------------------------------------

grpc::Status ApiService::SubmitTransaction(grpc::ServerContext* context,
                                           const v1::SubmitTransactionRequest* request,
                                           v1::SubmitTransactionResponse* response) {
  grpc::Status valid = ValidateSubmit(*request);
  if (!valid.ok()) return valid;
  const NodeInfo info = node_->Info();
  if (grpc::Status busy = CheckNotSyncing(info); !busy.ok()) return busy;
  std::vector<v1::SubmitTransactionResponse> answers;
  grpc::Status answered =
      AnswerSubmissions(*node_, info.chain_id, {&request->transaction()}, &answers);
  if (!answered.ok()) return answered;
  *response = std::move(answers[0]);
  if (!request->wait_for_commit() || response->status() != v1::TX_STATUS_PENDING) {
    return grpc::Status::OK;
  }
  crypto::Hash32 id{};
  std::copy(response->tx_id().begin(), response->tx_id().end(), id.begin());
  return AwaitCommit(*node_, *context, id, response);
}

grpc::Status ApiService::SubmitTransactions(grpc::ServerContext* /*context*/,
                                            const v1::SubmitTransactionsRequest* request,
                                            v1::SubmitTransactionsResponse* response) {
  grpc::Status valid = ValidateSubmitBatch(*request);
  if (!valid.ok()) return valid;
  const NodeInfo info = node_->Info();
  if (grpc::Status busy = CheckNotSyncing(info); !busy.ok()) return busy;
  std::vector<const v1::Transaction*> txs;
  txs.reserve(request->transactions_size());
  for (const v1::Transaction& tx : request->transactions()) txs.push_back(&tx);
  std::vector<v1::SubmitTransactionResponse> answers;
  grpc::Status answered = AnswerSubmissions(*node_, info.chain_id, txs, &answers);
  if (!answered.ok()) return answered;
  for (v1::SubmitTransactionResponse& answer : answers) {
    *response->add_results() = std::move(answer);
  }
  return grpc::Status::OK;
}

grpc::Status ApiService::GetTransaction(grpc::ServerContext* context,
                                        const v1::GetTransactionRequest* request,
                                        v1::GetTransactionResponse* response) {
  Result<crypto::Hash32> id = IdField(request->tx_id(), "tx_id");
  if (!id.ok()) return ToGrpcStatus(id.status());
  Opened committed = OpenCommitted(*node_);
  if (!committed.reader.ok()) return ToGrpcStatus(committed.reader.status());
  Result<v1::GetTransactionResponse> found = committed.reader->CommittedTransaction(*id);
  if (found.ok()) {
    *response = std::move(found).value();
    return grpc::Status::OK;
  }
  if (found.status().code() == Code::kNotFound && node_->IsPending(*id)) {
    response->set_status(v1::TX_STATUS_PENDING);
    return grpc::Status::OK;
  }
  return ToGrpcStatus(found.status());
}

grpc::Status ApiService::GetBlock(grpc::ServerContext* context, const v1::GetBlockRequest* request,
                                  v1::GetBlockResponse* response) {
  Opened committed = OpenCommitted(*node_);
  if (!committed.reader.ok()) return ToGrpcStatus(committed.reader.status());
  const ChainReader& reader = *committed.reader;
  uint64_t height = 0;
  switch (request->block_case()) {
    case v1::GetBlockRequest::kHeight:
      height = request->height();
      break;
    case v1::GetBlockRequest::kBlockId: {
      if (request->block_id().size() != storage::keys::kIdBytes) {
        return InvalidArgument("block_id must be 32 bytes, got " +
                               std::to_string(request->block_id().size()));
      }
      Result<uint64_t> found = reader.HeightOfBlock(request->block_id());
      if (!found.ok()) return ToGrpcStatus(found.status());
      height = *found;
      break;
    }
    case v1::GetBlockRequest::BLOCK_NOT_SET:
      return InvalidArgument("set height or block_id");
  }
  Result<v1::Block> block = reader.BlockAt(height);
  if (!block.ok()) return ToGrpcStatus(block.status());
  if (request->include_results()) {
    Result<std::vector<v1::TxResult>> results = reader.BlockResults(*block);
    if (!results.ok()) return ToGrpcStatus(results.status());
    for (v1::TxResult& r : *results) *response->add_results() = std::move(r);
  }
  if (request->include_proof()) {
    Result<std::optional<v1::CommitProof>> proof = reader.CommitProofOf(height);
    if (!proof.ok()) return ToGrpcStatus(proof.status());
    // Empty only for a moment after a crash lost the newest block's tip record
    // (node/replica/commit_proof.h); the next commit brings one.
    if (proof->has_value()) *response->mutable_commit_proof() = std::move(**proof);
  }
  *response->mutable_block() = std::move(block).value();
  return grpc::Status::OK;
}

template <typename Send>
grpc::Status ApiService::FollowChain(grpc::ServerContext* context, uint64_t from_height,
                                     Send send) {
  StreamSlot slot(open_streams_);
  if (!slot.acquired()) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "this node serves at most " + std::to_string(limits::api_streams_max) +
                            " streams at once; retry later or close another stream");
  }
  uint64_t next = from_height;
  while (!context->IsCancelled()) {
    uint64_t height = 0;
    {
      // A fresh snapshot per block: a slow client pins no old version of the store.
      Opened committed = OpenCommitted(*node_);
      if (!committed.reader.ok()) return ToGrpcStatus(committed.reader.status());
      height = committed.reader->committed_height();
      if (next == 0) next = height + 1;
      if (next <= height) {
        Result<v1::Block> block = committed.reader->BlockAt(next);
        if (!block.ok()) return ToGrpcStatus(block.status());
        Result<bool> sent = send(*committed.reader, *block);
        if (!sent.ok()) return ToGrpcStatus(sent.status());
        if (!*sent) break;  // the client went away
        ++next;
        continue;
      }
    }
    node_->WaitForCommitAbove(
        height, Clock::now() + std::chrono::milliseconds(limits::api_stream_wait_slice_ms));
  }
  return grpc::Status(grpc::StatusCode::CANCELLED, "the stream was closed");
}

grpc::Status ApiService::StreamBlocks(grpc::ServerContext* context,
                                      const v1::StreamBlocksRequest* request,
                                      grpc::ServerWriter<v1::StreamBlocksResponse>* writer) {
  const bool include_results = request->include_results();
  return FollowChain(context, request->from_height(),
                     [&](const ChainReader& reader, v1::Block& block) -> Result<bool> {
                       v1::StreamBlocksResponse message;
                       if (include_results) {
                         Result<std::vector<v1::TxResult>> results = reader.BlockResults(block);
                         if (!results.ok()) return results.status();
                         for (v1::TxResult& r : *results) *message.add_results() = std::move(r);
                       }
                       *message.mutable_block() = std::move(block);
                       return writer->Write(message);
                     });
}

grpc::Status ApiService::StreamEvents(grpc::ServerContext* context,
                                      const v1::StreamEventsRequest* request,
                                      grpc::ServerWriter<v1::StreamEventsResponse>* writer) {
  Status valid = ValidateEventFilter(request->filter());
  // An unknown TxKind in the filter is refused like an unknown enum in any query, not
  // left to match nothing (proto/CONTRACT.md, "Unknown fields and enum values").
  if (valid.ok()) valid = CheckQueryRequest(*request);
  if (!valid.ok()) return ToGrpcStatus(valid);
  return FollowChain(context, request->from_height(),
                     [&](const ChainReader& reader, v1::Block& block) -> Result<bool> {
                       if (block.txs().empty()) return true;
                       Result<std::vector<v1::Event>> events = reader.EventsOf(block);
                       if (!events.ok()) return events.status();
                       for (v1::Event& event : *events) {
                         if (!EventMatches(request->filter(), event)) continue;
                         v1::StreamEventsResponse message;
                         *message.mutable_event() = std::move(event);
                         if (!writer->Write(message)) return false;
                       }
                       return true;
                     });
}

grpc::Status ApiService::GetEpochProofs(grpc::ServerContext* context,
                                        const v1::GetEpochProofsRequest* request,
                                        v1::GetEpochProofsResponse* response) {
  Opened committed = OpenCommitted(*node_);
  if (!committed.reader.ok()) return ToGrpcStatus(committed.reader.status());
  Result<v1::GetEpochProofsResponse> answer = committed.reader->EpochProofs(request->from_epoch());
  if (!answer.ok()) return ToGrpcStatus(answer.status());
  *response = std::move(answer).value();
  return grpc::Status::OK;
}

grpc::Status ApiService::GetStatus(grpc::ServerContext* context,
                                   const v1::GetStatusRequest* request,
                                   v1::GetStatusResponse* response) {
  const NodeInfo info = node_->Info();
  Opened committed = OpenCommitted(*node_);
  if (!committed.reader.ok()) return ToGrpcStatus(committed.reader.status());
  const uint64_t height = committed.reader->committed_height();
  Result<v1::Block> block = committed.reader->BlockAt(height);
  if (!block.ok()) return ToGrpcStatus(block.status());
  Result<crypto::Hash32> block_id = BlockIdOf(info.chain_id, block->header());
  if (!block_id.ok()) return ToGrpcStatus(block_id.status());
  Result<crypto::Hash32> state_root = ledger::StateRoot(*committed.snapshot);
  if (!state_root.ok()) return ToGrpcStatus(state_root.status());
  response->set_chain_id(info.chain_id);
  response->set_height(height);
  response->set_block_id(std::string(crypto::AsBytes(*block_id)));
  response->set_block_time_ms(block->header().timestamp_ms());
  response->set_state_root(std::string(crypto::AsBytes(*state_root)));
  Result<v1::ValidatorSet> set = ledger::CurrentValidatorSet(*committed.snapshot);
  if (!set.ok()) return ToGrpcStatus(set.status());
  response->set_epoch(set->epoch());
  int32_t self = -1;
  for (int i = 0; i < set->validators_size(); ++i) {
    if (!info.self_public_key.empty() && set->validators(i).public_key() == info.self_public_key) {
      self = i;
    }
    *response->add_validators() = set->validators(i);
  }
  response->set_self_validator_index(self);
  response->set_syncing(info.syncing);
  response->set_mempool_txs(info.mempool_txs);
  response->set_version(info.version);
  response->set_round(info.round);
  return grpc::Status::OK;
}

// --- Queries ---------------------------------------------------------------------------------
// Each is one call to ledger::Queries over a fresh committed snapshot (TraceLot adds the
// Graphviz drawing when asked).

grpc::Status ApiService::GetOrg(grpc::ServerContext*, const v1::GetOrgRequest* request,
                                v1::GetOrgResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::GetOrg);
}

grpc::Status ApiService::ListOrgs(grpc::ServerContext*, const v1::ListOrgsRequest* request,
                                  v1::ListOrgsResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::ListOrgs);
}

grpc::Status ApiService::ListSites(grpc::ServerContext*, const v1::ListSitesRequest* request,
                                   v1::ListSitesResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::ListSites);
}

grpc::Status ApiService::GetLot(grpc::ServerContext*, const v1::GetLotRequest* request,
                                v1::GetLotResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::GetLot);
}

grpc::Status ApiService::LotHistory(grpc::ServerContext*, const v1::LotHistoryRequest* request,
                                    v1::LotHistoryResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::LotHistory);
}

grpc::Status ApiService::TraceLot(grpc::ServerContext*, const v1::TraceLotRequest* request,
                                  v1::TraceLotResponse* response) {
  grpc::Status status = Query(*node_, *request, response, &ledger::Queries::TraceLot);
  if (status.ok() && request->include_dot()) response->set_dot(TraceDot(*response));
  return status;
}

grpc::Status ApiService::Holdings(grpc::ServerContext*, const v1::HoldingsRequest* request,
                                  v1::HoldingsResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::Holdings);
}

grpc::Status ApiService::ListTransferOffers(grpc::ServerContext*,
                                            const v1::ListTransferOffersRequest* request,
                                            v1::ListTransferOffersResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::ListTransferOffers);
}

grpc::Status ApiService::QuotaUse(grpc::ServerContext*, const v1::QuotaUseRequest* request,
                                  v1::QuotaUseResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::QuotaUse);
}

grpc::Status ApiService::GetLicence(grpc::ServerContext*, const v1::GetLicenceRequest* request,
                                    v1::GetLicenceResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::GetLicence);
}

grpc::Status ApiService::ListLicences(grpc::ServerContext*, const v1::ListLicencesRequest* request,
                                      v1::ListLicencesResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::ListLicences);
}

grpc::Status ApiService::MatchingRestrictions(grpc::ServerContext*,
                                              const v1::MatchingRestrictionsRequest* request,
                                              v1::MatchingRestrictionsResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::MatchingRestrictions);
}

grpc::Status ApiService::RestrictionImpact(grpc::ServerContext*,
                                           const v1::RestrictionImpactRequest* request,
                                           v1::RestrictionImpactResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::RestrictionImpact);
}

grpc::Status ApiService::LicenceVerdict(grpc::ServerContext*,
                                        const v1::LicenceVerdictRequest* request,
                                        v1::LicenceVerdictResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::LicenceVerdict);
}

grpc::Status ApiService::ListRestrictions(grpc::ServerContext*,
                                          const v1::ListRestrictionsRequest* request,
                                          v1::ListRestrictionsResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::ListRestrictions);
}

grpc::Status ApiService::ExportStats(grpc::ServerContext*, const v1::ExportStatsRequest* request,
                                     v1::ExportStatsResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::ExportStats);
}

grpc::Status ApiService::ListExports(grpc::ServerContext*, const v1::ListExportsRequest* request,
                                     v1::ListExportsResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::ListExports);
}

grpc::Status ApiService::MassBalance(grpc::ServerContext*, const v1::MassBalanceRequest* request,
                                     v1::MassBalanceResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::MassBalance);
}

grpc::Status ApiService::MonthlyFlowReport(grpc::ServerContext*,
                                           const v1::MonthlyFlowReportRequest* request,
                                           v1::MonthlyFlowReportResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::MonthlyFlowReport);
}

grpc::Status ApiService::ListViolations(grpc::ServerContext*,
                                        const v1::ListViolationsRequest* request,
                                        v1::ListViolationsResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::ListViolations);
}

grpc::Status ApiService::ListValidatorChanges(grpc::ServerContext*,
                                              const v1::ListValidatorChangesRequest* request,
                                              v1::ListValidatorChangesResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::ListValidatorChanges);
}

grpc::Status ApiService::GetValidatorChange(grpc::ServerContext*,
                                            const v1::GetValidatorChangeRequest* request,
                                            v1::GetValidatorChangeResponse* response) {
  return Query(*node_, *request, response, &ledger::Queries::GetValidatorChange);
}

}  // namespace reel::api
